import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { popClient, popRequest } from '../helpers/clients.js';
import { Processes } from '../helpers/processes.js';
import { startPgCluster, type PgCluster } from '../store/pg-cluster.js';

/**
 * refreshd at scale, for real: one PostgreSQL, two `serve --no-worker` API processes and two
 * `worker` processes. Tasks go in through both APIs; one worker is killed with SIGKILL in the
 * middle of the fan-out. Every task must still complete, each node attempt applied exactly once
 * in the store, and every (path, node) purged at least once on the nodes themselves.
 */
const creds = { id: 'LTAImultiProcess00001', secret: 'multi-process-secret' };
const dir = mkdtempSync(join(tmpdir(), 'refreshd-multi-'));
let cluster: PgCluster;
let url: string;
const apiUrls: string[] = [];

/**
 * A stand-in Varnish node: answers PURGE with 200 after a delay, counting purges per path, and
 * every probe with a miss, as refreshd's VCL does (X-Varnish on every answer of its own).
 */
interface CountingNode { server: Server; address: string; purges: Map<string, number> }
const nodes: CountingNode[] = [];
async function countingNode(delayMs: number): Promise<CountingNode> {
  const purges = new Map<string, number>();
  const server = createServer((req, res) => {
    if (req.method === 'PURGE') purges.set(req.url!, (purges.get(req.url!) ?? 0) + 1);
    const probe = req.headers['x-cache-probe'] === '1';
    setTimeout(() => res.writeHead(probe ? 404 : 200, { 'content-length': '0', 'x-varnish': '1', ...(probe ? { 'x-cache': 'MISS' } : {}) }).end(), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, purges };
}

const processes = new Processes({ ...process.env, REFRESHD_ACCESS_KEY_ID: creds.id, REFRESHD_ACCESS_KEY_SECRET: creds.secret, REFRESHD_LOG_LEVEL: 'warn' });
const start = (args: string[], ready: RegExp) => processes.start([...args, '--store', url, '--config', join(dir, 'config.json')], ready);
const cli = (args: string[]) => processes.run([...args, '--store', url]);

before(async () => {
  cluster = await startPgCluster();
  url = await cluster.createDatabase();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ engine: { simulatedNodes: 0, leaseMs: 1500, pollMs: 100, perNodeConcurrency: 4, maxInFlight: 64 } }));
  for (let i = 0; i < 3; i++) nodes.push(await countingNode(40));
  nodes.forEach((n, i) => cli(['node', 'add', `edge-${i + 1}`, '--driver', 'varnish', '--address', n.address]));
  cli(['domain', 'add', 'mp.example.com']);
});
after(async () => {
  processes.killAll();
  for (const n of nodes) n.server.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('two API processes and two workers on PostgreSQL', () => {
  it('survive a worker killed mid-fan-out: every task completes, every node attempt applied once', async () => {
    const apis = [await start(['serve', '--no-worker', '--listen', '127.0.0.1:0'], /listening on (http:\/\/[^\s"]+)/), await start(['serve', '--no-worker', '--listen', '127.0.0.1:0'], /listening on (http:\/\/[^\s"]+)/)];
    const workers = [await start(['worker'], /worker running/), await start(['worker'], /worker running/)];
    apiUrls.push(...apis.map((a) => a.match[1]));
    const clients = apiUrls.map((u) => popClient(u, '2018-05-10', creds));

    const ids: string[] = [];
    const paths: string[] = [];
    for (let t = 0; t < 12; t++) {
      const list = Array.from({ length: 10 }, (_, i) => `/t${t}/${i}.css`);
      paths.push(...list);
      const res = await popRequest(clients[t % 2], 'RefreshObjectCaches', { ObjectPath: list.map((p) => `http://mp.example.com${p}`).join('\n') });
      ids.push(res.RefreshTaskId);
    }
    // Kill as soon as the fan-out is under way: a fixed wait let fast workers finish it first.
    const purged = () => nodes.reduce((n, node) => n + [...node.purges.values()].reduce((a, b) => a + b, 0), 0);
    for (const until = Date.now() + 10_000; purged() === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 5));
    const before = purged();
    assert.ok(before > 0 && before < paths.length * nodes.length, `killed mid-fan-out (${before} purges so far)`);
    workers[0].child.kill('SIGKILL');

    const deadline = Date.now() + 30_000;
    let rows: any[] = [];
    for (;;) {
      rows = [];
      for (let i = 0; i < ids.length; i += 10) rows.push(...(await popRequest(clients[1], 'DescribeRefreshTaskById', { TaskId: ids.slice(i, i + 10).join(',') })).Tasks);
      if (rows.length === paths.length && rows.every((r) => r.Status === 'Complete')) break;
      assert.ok(Date.now() < deadline, `not complete: ${JSON.stringify(rows.filter((r) => r.Status !== 'Complete').slice(0, 3))}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.deepEqual([...new Set(rows.map((r) => r.Process))], ['100%']);

    // The store: every item has exactly its 3 nodes applied, once each.
    for (let i = 0; i < ids.length; i += 10) {
      const detail = await popRequest(clients[0], 'DescribeRefreshTaskNodes', { TaskId: ids.slice(i, i + 10).join(',') });
      for (const item of detail.Items) {
        assert.deepEqual(item.Nodes.map((n: any) => [n.Node, n.State]).sort(), [['edge-1', 'Applied'], ['edge-2', 'Applied'], ['edge-3', 'Applied']]);
      }
    }
    // The nodes: every path purged on every node; repeats only for what the killed worker had in flight.
    let repeats = 0;
    for (const node of nodes) {
      for (const p of paths) {
        const n = node.purges.get(p) ?? 0;
        assert.ok(n >= 1, `${p} never purged on ${node.address}`);
        repeats += n - 1;
      }
    }
    assert.ok(repeats <= 64, `${repeats} repeated purges: at most the killed worker's in-flight attempts`);
  });

  it('share one rate limit: 5 DescribeRefreshTasks a second per user across both APIs', async () => {
    const clients = apiUrls.map((u) => popClient(u, '2018-05-10', creds));
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
    const started = Math.floor(Date.now() / 1000);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      popRequest(clients[i % 2], 'DescribeRefreshTasks', {}).then(() => 'ok', (e: any) => e.code as string)));
    const sameSecond = Math.floor(Date.now() / 1000) === started;
    const ok = answers.filter((a) => a === 'ok').length;
    assert.ok(answers.every((a) => a === 'ok' || a === 'TooManyRequests'), answers.join(','));
    if (sameSecond) assert.equal(ok, 5, `12 calls in one second over two processes: ${answers.join(',')}`);
    else assert.ok(ok >= 5 && ok <= 10, answers.join(','));
  });
});
