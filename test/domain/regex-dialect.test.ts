import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { regexRefusal } from '../../src/domain/regex-dialect.js';

/**
 * Regex refreshes run as PCRE2 on the caches (Varnish bans, Traffic Server regex_revalidate).
 * Every expression refreshd accepts must compile there: checked against the real PCRE2 of this
 * machine through pcre2test (Debian's pcre2-utils, installed by .ci/run).
 */
function pcre2Failures(patterns: string[]): boolean[] {
  const dir = mkdtempSync(join(tmpdir(), 'pcre2-'));
  try {
    // `"` delimits; a `"` inside is escaped, which PCRE2 reads as the same literal.
    const file = join(dir, 'in.txt');
    writeFileSync(file, patterns.map((p) => `"${p.replace(/"/g, '\\"')}"\n\n`).join(''));
    const out = spawnSync('pcre2test', [file], { encoding: 'utf8' });
    assert.equal(out.error, undefined, 'pcre2test runs (apt-get install pcre2-utils)');
    const blocks = out.stdout.split(/\n(?=")/).slice(1);
    assert.equal(blocks.length, patterns.length, 'one answer per pattern');
    return blocks.map((b) => /^Failed: error/m.test(b));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const REFUSED_BY_PCRE2 = [
  'a\\u0041', '\\u{zz}', '\\k<x>', '(?<=a+)b', '(?<=a{1,2})b', '(?<=(a|bc))d', '(?<=(?:ab|c))x', '[]', '[^]',
  '(?<n>a)|(?<n>b)', '\\p{General_Category=L}', '[\\d-z]', 'a{2,1}', '(a)\\2', '/img/(unclosed',
];
const ACCEPTED = [
  '/img/.*\\.png', '/static/v[0-9]+/', '^/a/b$', '/(?:css|js)/.*', '(?<=/img/)x\\.jpg', '(?<=ab|c)d', '(?<!\\d)\\w+',
  '\\p{L}+', '\\p{sc=Greek}', '(?<n>a)\\k<n>', '/路径/.*', '/a\\/b', '\\x41', '[a-z\\d_-]+', 'a{2,5}?', '.*\\?v=\\d+$',
];

describe('regex refreshes: the PCRE2 ∩ ECMAScript dialect', () => {
  it('refuses, with a reason, every expression PCRE2 would not compile', () => {
    assert.deepEqual(pcre2Failures(REFUSED_BY_PCRE2).map((f, i) => [REFUSED_BY_PCRE2[i], f]).filter(([, f]) => !f), [], 'the corpus really fails in PCRE2');
    for (const p of REFUSED_BY_PCRE2) assert.ok(regexRefusal(p), `refused: ${p}`);
  });

  it('accepts common expressions, and PCRE2 compiles them', () => {
    for (const p of ACCEPTED) assert.equal(regexRefusal(p), undefined, p);
    assert.deepEqual(pcre2Failures(ACCEPTED).map((f, i) => [ACCEPTED[i], f]).filter(([, f]) => f), []);
  });

  it('everything it accepts from 4,000 random expressions compiles in PCRE2', () => {
    const tokens = ['a', 'b', '.', '\\d', '\\w', '\\.', '/', '*', '+', '?', '{2}', '{1,3}', '(', ')', '(?:', '(?<=', '(?<!', '(?=', '|', '[', ']', '^', '$', '-', '\\u0041', '\\p{L}', '(?<g>', '\\k<g>', '\\1', '[^', '\\', '}', '{', '\\b', 'é'];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 48271) % 2147483647) % n);
    const accepted: string[] = [];
    let refused = 0;
    for (let i = 0; i < 4_000; i++) {
      let p = '';
      for (let k = 1 + rand(8); k > 0; k--) p += tokens[rand(tokens.length)];
      if (regexRefusal(p) === undefined) accepted.push(p);
      else refused++;
    }
    assert.ok(accepted.length > 300 && refused > 300, `a mix (${accepted.length} accepted, ${refused} refused)`);
    const failed = pcre2Failures(accepted).map((f, i) => (f ? accepted[i] : '')).filter((p) => p !== '');
    assert.deepEqual(failed, [], 'accepted but PCRE2 refuses');
  });
});
