import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { popClient, popRequest } from '../helpers/clients.js';
import { startHeldNode, type HeldNode } from '../helpers/held-node.js';
import { Processes } from '../helpers/processes.js';
import { eventually } from '../helpers/settle.js';
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
let node: HeldNode;

const processes = new Processes(env);
const start = async (args: string[], ready: RegExp) => (await processes.start([...args, '--store', url, '--config', join(dir, 'config.json')], ready)).match;
const cli = (args: string[]) => processes.run([...args, '--store', url]);

before(async () => {
  cluster = await startPgCluster();
  url = await cluster.createDatabase();
  // A cache node that answers each purge when the test releases it, one at a time (test/helpers/held-node.ts).
  node = await startHeldNode();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ engine: { simulatedNodes: 0, pollMs: 100, leaseMs: 30_000 } }));
  cli(['node', 'add', 'edge-1', '--driver', 'varnish', '--address', node.address, '--option', 'concurrency=1']);
  cli(['domain', 'add', 'cp.example.com']);
  // A plain HTTP server has no cache to probe: the group takes the node's answer.
  cli(['group', 'set', 'default', '--verify', 'ack']);
});
after(async () => {
  processes.killAll();
  await node?.close();
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
    // The node answers the first purge; the worker process records it and sends the second, which
    // the node keeps running. At the cancel the store has counted exactly what the node answered,
    // one purge is running and eight wait in the worker process.
    await eventually(() => node.received.length === 1, 'the worker to send its first purge', 15_000);
    node.release();
    await eventually(async () => (await applied()) === 1 && node.received.length === 2, 'the first purge counted, the second at the node', 15_000);
    const [t] = (await popRequest(cdn(), 'CancelRefreshTasks', { TaskId: id }, 'POST')).Tasks;
    assert.deepEqual([t.AppliedNodes, t.CanceledNodes], [1, 9], 'the one answered stays applied; the running one and the eight held are canceled');
    // The cancel reaches the worker process through the store (NOTIFY), after the answer: the
    // running purge is held well past that trip (2 s) before it finishes. Were the held attempts
    // not dropped, its slot would pass straight to the next: give that time to show.
    await new Promise((r) => setTimeout(r, 2_000));
    node.release();
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(node.received.filter((p) => p.startsWith('/p/')).length, 2, 'what it applied and the one it was running when the cancel came; nothing more');
    assert.equal(await applied(), 1, 'nothing counted after the cancel');
  });
});
