import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

/**
 * What an operator meets first: which commands may create a store, the start-up line and the
 * root key banner, a browser at `/`, and a server started through npm that must not outlive it.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'refreshd.js');
const tmp = mkdtempSync(join(tmpdir(), 'refreshd-operator-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

const clean = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REFRESHD_') && !k.startsWith('npm_')));
const cli = (args: string[], cwd = tmp) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: clean() });

/** Run a command that starts a server; resolve with its output once the start-up line is out. */
function started(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; detached?: boolean } = {}) {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? tmp, env: { ...clean(), ...opts.env }, detached: opts.detached });
  children.push(child);
  let out = '';
  let err = '';
  return new Promise<{ child: ChildProcess; line: Record<string, any>; out: () => string; err: () => string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line: ${out}${err}`)), 30_000);
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.includes('"msg":"refreshd listening on'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line: JSON.parse(line), out: () => out, err: () => err });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}${err}`)));
  });
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

async function closedWithin(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await portOpen(port))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('who creates a store', () => {
  it('admin commands stop with the absolute path and create nothing', () => {
    for (const args of [['domain', 'list'], ['node', 'list'], ['account', 'add', 'acme'], ['key', 'list'], ['worker'], ['audit']]) {
      const r = cli(args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.split('\n')[0], `refreshd: no refreshd store in ${join(tmp, 'data')} — pass --data DIR or set REFRESHD_DATA (\`refreshd init\` or \`refreshd serve\` creates one)`);
    }
    assert.deepEqual(readdirSync(tmp), []);
  });

  it('refreshd init creates one (root key printed once), after which admin commands work on it', () => {
    const data = join(tmp, 'state');
    const r = cli(['init', '--data', data]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `refreshd store ready: sqlite ${data}/refreshd.db\n`);
    assert.match(r.stderr, /AccessKeyId: +LTAI\w{20}\n {2}AccessKeySecret: +\w{30}\n/);
    assert.ok(existsSync(join(data, 'master.key')));
    assert.match(cli(['node', 'list', '--data', data]).stdout, /^sim-1\tsimulated/m);
    const again = cli(['init', '--data', data]);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /AccessKeySecret/);
  });
});

describe('refreshd serve', () => {
  it('writes one start-up line and the first root key to stderr, never into the JSON stream', async () => {
    const s = await started(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--data', join(tmp, 'serve')]);
    const url = s.line.listen as string;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.line.store, `sqlite ${join(tmp, 'serve')}/refreshd.db`);
    assert.deepEqual(s.line.fleet, { real: 0, simulated: 8, disabled: 0 });
    assert.equal(s.line.console, `${url}/console/`);
    await new Promise((r) => setTimeout(r, 300));
    const lines = s.out().trim().split('\n');
    assert.ok(lines.every((l) => JSON.parse(l)), 'stdout is JSON lines only');
    assert.equal(lines.filter((l) => /listening/i.test(l)).length, 1, s.out());
    assert.doesNotMatch(s.out(), /AccessKeySecret|LTAI/);
    assert.match(s.err(), /created the root account\. Its AccessKey pair is shown this once:\n {2}AccessKeyId: +LTAI\w{20}\n {2}AccessKeySecret: +\w{30}\n/);

    // A browser at / lands on the console; an API client without Action still gets Alibaba's error.
    const browser = await fetch(`${url}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, redirect: 'manual' });
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.get('location'), '/console/');
    const api = await fetch(`${url}/?Format=JSON`);
    assert.equal(api.status, 400);
    assert.match((await api.json()).Code, /^Missing/);
    s.child.kill('SIGTERM');
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`started by npm, stops when npm gets ${signal} (no orphan holding the port)`, async () => {
      // `npm start -- …` runs npm → sh -c → node, as `npx refreshd serve` does.
      const s = await started('npm', ['start', '--silent', '--', '--listen', '127.0.0.1:0', '--data', join(tmp, `npm-${signal}`)], { cwd: ROOT });
      const port = Number(new URL(s.line.listen).port);
      assert.ok(await portOpen(port));
      s.child.kill(signal);
      assert.ok(await closedWithin(port, 5_000), `port ${port} still open 5 s after npm got ${signal}`);
    });
  }

  it('a refreshd not started by npm outlives its parent (systemd, nohup and the like)', async () => {
    // sh -c "…; true" keeps the shell as the parent, like npm's; without npm it is not watched.
    const s = await started('sh', ['-c', `"${process.execPath}" "${BIN}" serve --listen 127.0.0.1:0 --data "${join(tmp, 'plain')}"; true`], { detached: true });
    const port = Number(new URL(s.line.listen).port);
    s.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.ok(await portOpen(port), 'the server stopped with its parent');
    const pid = Number(s.line.pid);
    process.kill(pid, 'SIGTERM');
    assert.ok(await closedWithin(port, 5_000));
  });
});
