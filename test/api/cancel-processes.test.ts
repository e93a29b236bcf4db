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
 * CancelRefreshTasks on PostgreSQL with the API and the worker in two processes: the worker
 * leased the task's attempts and queued them for a slow node; the cancel, taken by the API
 * process, reaches the worker through the store (NOTIFY), and the node gets nothing more than
 * what it was already doing.
 */
const creds = { id: 'LTAIcancelProcesses01', secret: 'cancel-processes-secret' };
const env = { ...process.env, REFRESHD_ACCESS_KEY_ID: creds.id, REFRESHD_ACCESS_KEY_SECRET: creds.secret, REFRESHD_LOG_LEVEL: 'warn' };
const dir = mkdtempSync(join(tmpdir(), 'refreshd-cancel-'));
let cluster: PgCluster;
let url: string;
let node: Server;
const purges: string[] = [];

const processes = new Processes(env);
const start = async (args: string[], ready: RegExp) => (await processes.start([...args, '--store', url, '--config', join(dir, 'config.json')], ready)).match;
const cli = (args: string[]) => processes.run([...args, '--store', url]);

before(async () => {
  cluster = await startPgCluster();
  url = await cluster.createDatabase();
  // A cache node that takes 600 ms per purge, one at a time, answering as refreshd's VCL does (X-Varnish):
  // long enough for the cancel to reach the worker process on a loaded machine.
  node = createServer((req, res) => {
    if (req.method === 'PURGE') purges.push(req.url!);
    setTimeout(() => res.writeHead(200, { 'content-length': '0', 'x-varnish': '1' }).end(), 600);
  });
  await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ engine: { simulatedNodes: 0, pollMs: 100, leaseMs: 30_000 } }));
  cli(['node', 'add', 'edge-1', '--driver', 'varnish', '--address', `127.0.0.1:${(node.address() as AddressInfo).port}`, '--option', 'concurrency=1']);
  cli(['domain', 'add', 'cp.example.com']);
  // A plain HTTP server has no cache to probe: the group takes the node's answer.
  cli(['group', 'set', 'default', '--verify', 'ack']);
});
after(async () => {
  processes.killAll();
  node?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('cancel across processes on PostgreSQL', () => {
  it("the worker process drops what it held unstarted; the node gets no more than it was doing", async () => {
    const [, api] = await start(['serve', '--no-worker', '--listen', '127.0.0.1:0'], /listening on (http:\/\/[^\s"]+)/);
    await start(['worker'], /worker running/);
    const cdn = () => popClient(api, '2018-05-10', creds);
    const paths = Array.from({ length: 10 }, (_, i) => `http://cp.example.com/p/${i}.js`);
    const { RefreshTaskId: id } = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: paths.join('\n') }, 'POST');
    const applied = async () => (await popRequest(cdn(), 'DescribeRefreshTaskNodes', { TaskId: id, PageSize: 100 })).Items.flatMap((i: any) => i.Nodes).filter((n: any) => n.State === 'Applied').length;
    const deadline = Date.now() + 15_000;
    while ((await applied()) < 1) {
      assert.ok(Date.now() < deadline, 'the worker did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const [t] = (await popRequest(cdn(), 'CancelRefreshTasks', { TaskId: id }, 'POST')).Tasks;
    assert.equal(t.AppliedNodes + t.CanceledNodes, 10);
    assert.ok(t.CanceledNodes >= 5, `canceled ${t.CanceledNodes}`);
    // Without the drop, the worker would go on purging one every 600 ms.
    await new Promise((r) => setTimeout(r, 3_000));
    const sent = purges.filter((p) => p.startsWith('/p/')).length;
    assert.ok(sent <= t.AppliedNodes + 1, `${sent} purges reached the node for ${t.AppliedNodes} applied`);
    assert.equal(await applied(), t.AppliedNodes, 'nothing counted after the cancel');
  });
});
