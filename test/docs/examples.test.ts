import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { startTestServer } from '../helpers/server.js';

/**
 * Every runnable code block of the README and docs/, run as printed against a real `refreshd
 * serve` (one per document, on a fresh store): shell blocks (`sh`, `bash`, `shell`) in bash with
 * `refreshd` on the PATH, JavaScript blocks (`js`) with node, as CommonJS when they `require`,
 * else as an ES module. A document's blocks run in order in one working directory, so later
 * blocks may use what earlier ones made. A block preceded by `<!-- not run: reason -->` is left
 * out (a global install, a long-running server, a PostgreSQL deployment); blocks in other
 * languages (json, sql, nginx, plain) are text.
 *
 * The blocks see REFRESHD_DATA (the server's store), REFRESHD_ENDPOINT (host:port) and the root
 * key in REFRESHD_ACCESS_KEY_ID / REFRESHD_ACCESS_KEY_SECRET, as a reader's shell would after
 * following the README.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'refreshd.js');
// Outside the repository (an `npm` command in a block must not find its package.json), with its
// node_modules linked in so the JavaScript examples resolve the SDKs.
const WORK = mkdtempSync(join(tmpdir(), 'refreshd-doc-examples-'));
symlinkSync(join(ROOT, 'node_modules'), join(WORK, 'node_modules'));
const KEY = { id: 'LTAI5tDocExamples000001', secret: 'DocExamplesSecret0123456789abc' };
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(WORK, { recursive: true, force: true });
});

export interface Block {
  lang: string;
  code: string;
  line: number;
  notRun?: string;
}

const SHELL = new Set(['sh', 'bash', 'shell']);
const JS = new Set(['js', 'javascript', 'mjs', 'cjs']);

export function blocksOf(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    // Fences may be indented (inside a list item); the block's lines lose that indentation.
    const open = /^( {0,3})```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^ {0,3}```\s*$/.test(lines[i]); i++) body.push(lines[i].slice(open[1].length));
    let prev = start - 1;
    while (prev >= 0 && lines[prev].trim() === '') prev--;
    const marker = prev >= 0 ? /^<!-- not run: (.+) -->$/.exec(lines[prev].trim()) : null;
    blocks.push({ lang: open[2].toLowerCase(), code: body.join('\n') + '\n', line: start + 1, notRun: marker?.[1] });
  }
  return blocks;
}

const runnable = (b: Block) => !b.notRun && (SHELL.has(b.lang) || JS.has(b.lang));
const documents = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REFRESHD_') && !k.startsWith('npm_')));
}

async function serve(dir: string): Promise<{ child: ChildProcess; hostPort: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'data')], {
    env: { ...cleanEnv(), REFRESHD_ACCESS_KEY_ID: KEY.id, REFRESHD_ACCESS_KEY_SECRET: KEY.secret, REFRESHD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30_000);
    child.stderr!.on('data', (c) => (out += c));
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /"listen":"http:\/\/([^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, hostPort: m[1] });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

describe('README and docs examples', () => {
  it('finds runnable blocks, and every left-out block says why', () => {
    const all = documents.flatMap((d) => blocksOf(readFileSync(join(ROOT, d), 'utf8')).map((b) => ({ d, b })));
    assert.ok(all.filter(({ b }) => runnable(b)).length >= 15, 'too few runnable blocks found');
    assert.ok(all.filter(({ b }) => b.notRun && b.notRun.trim().length < 10).length === 0, 'a not-run marker without a reason');
    // Sparingly: most shell and JavaScript blocks run.
    const code = all.filter(({ b }) => SHELL.has(b.lang) || JS.has(b.lang));
    assert.ok(code.filter(({ b }) => b.notRun).length * 3 < code.length, 'more than a third of the code blocks are not run');
  });

  for (const doc of documents) {
    const blocks = blocksOf(readFileSync(join(ROOT, doc), 'utf8')).filter(runnable);
    if (blocks.length === 0) continue;
    it(`${doc}: every runnable block runs as printed`, async () => {
      const dir = join(WORK, doc.replace(/\W+/g, '-'));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, 'home'), { recursive: true });
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'refreshd'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
      chmodSync(join(dir, 'bin', 'refreshd'), 0o755);
      const server = await serve(dir);
      const env = {
        ...cleanEnv(),
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        HOME: join(dir, 'home'),
        REFRESHD_DATA: join(dir, 'data'),
        REFRESHD_ENDPOINT: server.hostPort,
        REFRESHD_ACCESS_KEY_ID: KEY.id,
        REFRESHD_ACCESS_KEY_SECRET: KEY.secret,
      };
      try {
        for (const [i, b] of blocks.entries()) {
          let r;
          if (SHELL.has(b.lang)) {
            r = spawnSync('bash', ['-euo', 'pipefail', '-c', b.code], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
          } else {
            const cjs = b.lang === 'cjs' || (b.lang !== 'mjs' && /\brequire\(/.test(b.code) && !/^import /m.test(b.code));
            const file = join(dir, `block-${i + 1}.${cjs ? 'cjs' : 'mjs'}`);
            writeFileSync(file, b.code);
            r = spawnSync(process.execPath, [file], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
          }
          assert.equal(r.status, 0, `${doc}:${b.line} (${b.lang}) failed with ${r.status ?? r.signal}:\n${b.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        }
      } finally {
        server.child.kill('SIGTERM');
      }
    });
  }
});

describe('docs/api.md examples', () => {
  it('WaitForTasks: the example has the fields and types of a real answer', async () => {
    const server = await startTestServer();
    try {
      await server.addDomain('example.com');
      const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://example.com/a.txt' })).json.RefreshTaskId;
      const real = (await rpc(server.url, 'WaitForTasks', { TaskId: id, Timeout: 0 })).json;
      const doc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
      const section = doc.slice(doc.indexOf('### WaitForTasks'));
      const example = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section)![1]);
      const shape = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? 'array' : typeof v]));
      assert.deepEqual(shape(example), shape(real));
      assert.deepEqual(shape(example.Tasks[0]), shape(real.Tasks[0]));
    } finally {
      await server.close();
    }
  });
});
