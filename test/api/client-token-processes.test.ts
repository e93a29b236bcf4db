import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { popClient, popRequest } from '../helpers/clients.js';
import { Processes } from '../helpers/processes.js';
import { startPgCluster, type PgCluster } from '../store/pg-cluster.js';

/**
 * ClientToken across real processes: two `refreshd serve` API processes on one PostgreSQL
 * database taking the same token at the same moment, and one SQLite server stopped and started
 * again on its data directory between a call and its retry.
 */
const creds = { id: 'LTAIclientToken000001', secret: 'client-token-secret' };
const env = { ...process.env, REFRESHD_ACCESS_KEY_ID: creds.id, REFRESHD_ACCESS_KEY_SECRET: creds.secret, REFRESHD_LOG_LEVEL: 'warn' };
const dir = mkdtempSync(join(tmpdir(), 'refreshd-token-'));
let cluster: PgCluster;

const processes = new Processes(env);
async function serve(store: string[]): Promise<{ child: ChildProcess; url: string }> {
  const { child, match } = await processes.start(['serve', '--no-worker', '--listen', '127.0.0.1:0', ...store], /listening on (http:\/\/[^\s"]+)/);
  return { child, url: match[1] };
}
const stop = (child: ChildProcess) => processes.stop(child);
const cli = (args: string[]) => processes.run(args);

const call = (url: string, action: string, params: object) => popRequest(popClient(url, '2018-05-10', creds), action, params, 'POST');

before(async () => {
  cluster = await startPgCluster();
});
after(async () => {
  processes.killAll();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ClientToken across processes', () => {
  it('two API processes on one PostgreSQL database, one token at the same moment: one set of tasks, charged once', async () => {
    const url = await cluster.createDatabase();
    cli(['init', '--store', url]);
    cli(['domain', 'add', 'pg.example.com', '--store', url]);
    cli(['domain', 'add', 'pg2.example.com', '--store', url]);
    const apis = [await serve(['--store', url]), await serve(['--store', url])];
    const before = Number((await call(apis[0].url, 'DescribeRefreshQuota', {})).UrlRemain);
    const params = { ObjectPath: 'http://pg.example.com/a.js\nhttp://pg2.example.com/b.js\nhttp://pg.example.com/c.js', ClientToken: 'deploy-2026-11-25#42' };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call(apis[i % 2].url, 'RefreshObjectCaches', params)));
    const ids = new Set(answers.map((a) => a.RefreshTaskId));
    assert.equal(ids.size, 1, `every call answered the same tasks: ${[...ids].join(' | ')}`);
    assert.match([...ids][0], /^\d{11},\d{11}$/, 'one task per domain');
    for (const api of apis) {
      const rows = await call(api.url, 'DescribeRefreshTasks', { PageSize: 100 });
      assert.equal(rows.TotalCount, 3, 'three rows, not sixty');
      assert.equal(Number((await call(api.url, 'DescribeRefreshQuota', {})).UrlRemain), before - 3, 'charged once');
    }
    await assert.rejects(call(apis[1].url, 'RefreshObjectCaches', { ...params, ObjectPath: 'http://pg.example.com/a.js' }), (err: any) => err.code === 'IdempotentParameterMismatch');
    await Promise.all(apis.map((a) => stop(a.child)));
  });

  it('a SQLite server stopped and started again on its data directory still answers the token', async () => {
    const data = join(dir, 'sqlite');
    cli(['init', '--data', data]);
    cli(['domain', 'add', 'lite.example.com', '--data', data]);
    const params = { ObjectPath: 'lite.example.com/x.css', ClientToken: 'retry-after-restart' };
    let api = await serve(['--data', data]);
    const first = await call(api.url, 'RefreshObjectCaches', params);
    const quota = (await call(api.url, 'DescribeRefreshQuota', {})).UrlRemain;
    await stop(api.child);
    api = await serve(['--data', data]);
    const again = await call(api.url, 'RefreshObjectCaches', params);
    assert.equal(again.RefreshTaskId, first.RefreshTaskId);
    assert.equal((await call(api.url, 'DescribeRefreshQuota', {})).UrlRemain, quota);
    assert.equal((await call(api.url, 'DescribeRefreshTasks', {})).TotalCount, 1);
    await stop(api.child);
  });
});
