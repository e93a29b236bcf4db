import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { errorGroups, generateAll, generateErrorsDoc } from '../../scripts/gen-docs.js';
import { ERRORS } from '../../src/spec/errors.js';

/** docs/api.md and docs/errors.md are generated from src/spec/ and must stay in step with it. */
const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const REGENERATE = 'stale: run `node --import tsx scripts/gen-docs.ts`';

describe('generated docs', () => {
  for (const [file, text] of Object.entries(generateAll())) {
    it(`${file} is exactly what scripts/gen-docs.ts generates`, () => {
      assert.equal(read(file), text, `${file} is ${REGENERATE}`);
    });
  }

  it('groups docs/errors.md by the section comments of src/spec/errors.ts', () => {
    const groups = errorGroups();
    assert.ok(groups.length > 1 && groups.every((g) => g.title), 'section comments were not recognised');
    assert.deepEqual(groups.flatMap((g) => g.codes), Object.keys(ERRORS));
  });

  it('falls back to one table in source order when the comments do not match the catalogue', () => {
    const groups = errorGroups('export const ERRORS = {\n  // --- only ---\n  Throttling: {},\n}');
    assert.deepEqual(groups, [{ title: null, codes: Object.keys(ERRORS) }]);
    assert.ok(!generateErrorsDoc(groups).includes('\n## '));
  });
});

describe('docs/errors.md, read as a table', () => {
  /** Code → [status, message] from every `| \`Code\` | 400 | Message | Answered by |` row. */
  const rows = new Map<string, [number, string]>();
  const answeredBy = new Map<string, string>();
  for (const line of read('docs/errors.md').split('\n')) {
    const m = /^\| `([^`]+)` \| (\d{3}) \| (.*) \| ([^|]*) \|$/.exec(line);
    if (m) answeredBy.set(m[1], m[4]);
    if (m) {
      assert.ok(!rows.has(m[1]), `duplicate row for ${m[1]}`);
      rows.set(m[1], [Number(m[2]), m[3].replace(/\\\|/g, '|')]);
    }
  }

  it('has a row for every code in ERRORS, with its status and message', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      assert.deepEqual(rows.get(code), [spec.status, spec.message], `row for ${code}`);
    }
  });

  it('names the actions that may answer each code, and every code is answered by some action', () => {
    for (const code of Object.keys(ERRORS)) assert.ok((answeredBy.get(code) ?? '').length > 0, `nobody answers ${code}`);
    assert.equal(answeredBy.get('InvalidTaskId.Malformed')?.split(', ').includes('DescribePreloadDetailById'), true);
    assert.equal(answeredBy.get('SignatureDoesNotMatch'), 'every action');
  });

  it('has no row for a code that is not in ERRORS', () => {
    assert.deepEqual([...rows.keys()].filter((c) => !(c in ERRORS)), []);
  });
});
