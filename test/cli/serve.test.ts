import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { popClient, popRequest } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import Database from 'better-sqlite3';
import { formatUtc } from '../../src/protocol/encoding.js';
import { NonceCache } from '../../src/store/sqlite/nonce-cache.js';

/**
 * The README's first command, for real: `refreshd serve` as a separate process on a fresh data
 * dir, the credentials it prints once, `refreshd domain add` against the running server's data
 * dir, and a restart (clean and kill -9) that keeps every accepted task and key.
 */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'refreshd.js');
const dataDir = mkdtempSync(join(tmpdir(), 'refreshd-cli-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcess;
  url: string;
  output: string;
}

/** Start `refreshd serve` on a free port and wait for its "listening" line. */
function serve(env: Record<string, string> = {}, dir = dataDir): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--data', dir], {
    env: { ...process.env, ...env, REFRESHD_LOG_LEVEL: 'warn' },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${output}`)), 15_000);
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output });
      }
    });
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)));
  });
}

/** Waits (up to 10 s) until the server has written this nonce to its store. */
async function untilNonceWritten(file: string, accessKeyId: string, nonce: string): Promise<void> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const find = db.prepare('SELECT 1 FROM nonces WHERE key = ?');
    const key = NonceCache.keyOf(accessKeyId, nonce);
    for (const deadline = Date.now() + 10_000; !find.get(key); ) {
      if (Date.now() > deadline) throw new Error(`nonce ${nonce} not written within 10 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    db.close();
  }
}

function cli(args: string[], dir = dataDir) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data', dir], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function stop(s: Served, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.once('exit', () => resolve());
    s.child.kill(signal);
  });
}

describe('refreshd serve', () => {
  let creds: { id: string; secret: string };
  let taskId: string;

  it('prints a new root AccessKey pair once and serves with it', async () => {
    const s = await serve();
    const id = /AccessKeyId:\s+(LTAI\w{20})/.exec(s.output)?.[1];
    const secret = /AccessKeySecret:\s+(\w{30})/.exec(s.output)?.[1];
    assert.ok(id && secret, s.output);
    creds = { id, secret };

    const added = cli(['domain', 'add', 'www.example.com', '--origin', 'http://127.0.0.1:9']);
    assert.equal(added.code, 0, added.err);
    const client = popClient(s.url, '2018-05-10', creds);
    const res = await popRequest(client, 'RefreshObjectCaches', { ObjectPath: 'http://www.example.com/index.html' });
    taskId = res.RefreshTaskId;
    await assert.rejects(popRequest(client, 'RefreshObjectCaches', { ObjectPath: 'http://unregistered.example.net/a' }), (e: any) => e.code === 'InvalidDomain.NotFound');
    await stop(s, 'SIGTERM');
  });

  it('does not print the secret again on restart, and keeps keys and tasks', async () => {
    const s = await serve();
    assert.doesNotMatch(s.output, /AccessKeySecret/);
    assert.ok(!s.output.includes(creds.secret));
    const rows = await popRequest(popClient(s.url, '2018-05-10', creds), 'DescribeRefreshTaskById', { TaskId: taskId });
    assert.equal(rows.TotalCount, 1);
    await stop(s, 'SIGTERM');
  });

  it('loses no accepted task when killed with SIGKILL right after answering', async () => {
    const s = await serve();
    const client = popClient(s.url, '2018-05-10', creds);
    const accepted: string[] = [];
    for (let i = 0; i < 20; i++) accepted.push((await popRequest(client, 'PushObjectCache', { ObjectPath: `www.example.com/p${i}.js` })).PushTaskId);
    await stop(s, 'SIGKILL');
    const again = await serve();
    const rows = await popRequest(popClient(again.url, '2018-05-10', creds), 'DescribeRefreshTasks', { ObjectType: 'preload', DomainName: 'www.example.com', PageSize: 100 });
    assert.deepEqual(rows.Tasks.CDNTask.map((t: any) => t.TaskId).sort(), [...accepted].sort());
    await stop(again, 'SIGTERM');
  });

  it('refuses a request replayed after a restart, clean or SIGKILL', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const s = await serve();
      const once = { accessKeyId: creds.id, secret: creds.secret, nonce: `replay-${signal}`, timestamp: formatUtc(Date.now()) };
      assert.equal((await rpc(s.url, 'DescribeRefreshQuota', {}, once)).status, 200);
      assert.equal((await rpc(s.url, 'DescribeRefreshQuota', {}, once)).json.Code, 'SignatureNonceUsed');
      // Accepted nonces are written within 25 ms; a kill after that must not forget them. Kill
      // once the row is there (read through a connection of our own), not after a fixed pause
      // that a stalled server could outlast.
      await untilNonceWritten(join(dataDir, 'refreshd.db'), creds.id, once.nonce);
      await stop(s, signal);
      const again = await serve();
      const replay = await rpc(again.url, 'DescribeRefreshQuota', {}, once);
      assert.deepEqual([replay.status, replay.json.Code], [400, 'SignatureNonceUsed'], `after ${signal}`);
      assert.equal((await rpc(again.url, 'DescribeRefreshQuota', {}, { ...once, nonce: `fresh-${signal}` })).status, 200);
      await stop(again, 'SIGTERM');
    }
  });

  it('domain list shows what was added; bad domain names are refused', () => {
    const list = cli(['domain', 'list', '--json']);
    assert.equal(list.code, 0);
    const domains = JSON.parse(list.out);
    assert.deepEqual(domains.map((d: any) => [d.name, d.product, d.origin]), [['www.example.com', 'cdn', 'http://127.0.0.1:9']]);
    const bad = cli(['domain', 'add', 'not a domain']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /not a domain name/);
    const dup = cli(['domain', 'add', 'www.example.com']);
    assert.notEqual(dup.code, 0);
    assert.match(dup.err, /already registered/);
  });

  it('takes its key pair from REFRESHD_ACCESS_KEY_ID / _SECRET', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refreshd-cli-env-'));
    try {
      const env = { REFRESHD_ACCESS_KEY_ID: 'LTAIfromEnvironment01', REFRESHD_ACCESS_KEY_SECRET: 'secret-from-env' };
      const s = await serve(env, dir);
      assert.doesNotMatch(s.output, /AccessKeySecret/);
      const quota = await popRequest(popClient(s.url, '2018-05-10', { id: env.REFRESHD_ACCESS_KEY_ID, secret: env.REFRESHD_ACCESS_KEY_SECRET }), 'DescribeRefreshQuota', {});
      assert.equal(quota.UrlQuota, '10000');
      await stop(s, 'SIGTERM');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
