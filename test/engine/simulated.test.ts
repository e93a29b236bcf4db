import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startOrigin, type Origin } from '../edges/harness/origin.js';

/**
 * The execution engine end to end on the built-in simulated fleet: a real server with its
 * worker, tasks submitted through the API, status read back through the API.
 */
let server: TestServer;
let origin: Origin;

before(async () => {
  origin = await startOrigin();
  server = await startTestServer(
    { engine: { simulatedNodes: 4, simulatedLatencyMs: [50, 400], retryBaseMs: 20, maxAttempts: 3, pollMs: 50, leaseMs: 3000, requestTimeoutMs: 500 } },
    { worker: true },
  );
  await server.addDomain('example.com', 'cdn', origin.url);
  await server.addDomain('noorigin.example.com');
  // A group whose only node always fails, and a group with no nodes at all.
  await server.store.fleet.addNode({ name: 'broken-1', driver: 'simulated', address: 'simulated/broken', group: 'broken', area: 'domestic', enabled: true, options: { failureRate: 1 }, createdAt: 0 });
  await server.store.domains.addDomain({ name: 'broken.example.com', accountId: server.accountId, product: 'cdn', origin: null, online: true, nodeGroup: 'broken', createdAt: 0 });
  await server.store.domains.addDomain({ name: 'empty.example.com', accountId: server.accountId, product: 'cdn', origin: null, online: true, nodeGroup: 'nobody', createdAt: 0 });
  // Four nodes that take 300–700 ms: the first read after a submit comes well before any answers,
  // even from a test process that stalls for a moment on a loaded machine.
  for (let i = 1; i <= 4; i++) {
    await server.store.fleet.addNode({ name: `steady-${i}`, driver: 'simulated', address: `simulated/steady-${i}`, group: 'steady', area: 'domestic', enabled: true, options: { latencyMs: [300, 700] }, createdAt: 0 });
  }
  await server.store.domains.addDomain({ name: 'steady.example.com', accountId: server.accountId, product: 'cdn', origin: null, online: true, nodeGroup: 'steady', createdAt: 0 });
});
after(async () => {
  await server.close();
  await origin.close();
});

async function rows(taskId: string) {
  return (await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: taskId })).json.Tasks as Record<string, string>[];
}

/** Poll a task until every row is terminal; return every Process value seen on the way. */
async function untilDone(taskId: string, timeoutMs = 8000): Promise<{ final: Record<string, string>[]; seen: string[] }> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await rows(taskId);
    for (const t of r) seen.push(`${t.Status} ${t.Process}`);
    if (r.length > 0 && r.every((t) => t.Status === 'Complete' || t.Status === 'Failed')) return { final: r, seen };
    if (Date.now() > deadline) throw new Error(`task ${taskId} not done: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

describe('engine on the simulated fleet', () => {
  it('a refresh passes through Pending, then Refreshing with rising Process, to Complete 100%', async () => {
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://steady.example.com/a.css' })).json.RefreshTaskId;
    const { final, seen } = await untilDone(id);
    assert.deepEqual(final.map((t) => [t.Status, t.Process, t.Description]), [['Complete', '100%', '']]);
    const percents = seen.map((s) => Number.parseFloat(s.split(' ')[1]));
    assert.ok(percents.some((p) => p > 0 && p < 100), `an in-between Process was seen: ${seen.join(', ')}`);
    assert.deepEqual([...percents].sort((a, b) => a - b), percents, 'Process never goes down');
    assert.ok(seen.some((s) => s.startsWith('Refreshing')));
    // The first describe comes well before the first node answers (300 ms at the least).
    assert.equal(seen[0], 'Pending 0%');
    const order = ['Pending', 'Refreshing', 'Complete'];
    const states = seen.map((s) => order.indexOf(s.split(' ')[0]));
    assert.deepEqual([...states].sort((a, b) => a - b), states, `states in order: ${seen.join(', ')}`);
  });

  it('DescribeRefreshTaskNodes shows every node applied, with times', async () => {
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://example.com/b.css\nhttp://example.com/c.css' })).json.RefreshTaskId;
    await untilDone(id);
    const res = await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: id });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.TotalCount, 2);
    for (const item of res.json.Items) {
      assert.equal(item.Status, 'Complete');
      assert.deepEqual(item.Nodes.map((n: any) => n.Node).sort(), ['sim-1', 'sim-2', 'sim-3', 'sim-4']);
      for (const n of item.Nodes) {
        assert.equal(n.State, 'Applied');
        assert.equal(n.Attempts, 1);
        assert.match(n.AppliedTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      }
    }
  });

  it('a preload fetches the real origin from each node in its Area', async () => {
    const before = origin.hits.get('/warm/1.js') ?? 0;
    const id = (await rpc(server.url, 'PushObjectCache', { ObjectPath: 'example.com/warm/1.js', Area: 'overseas' })).json.PushTaskId;
    const { final } = await untilDone(id);
    assert.equal(final[0].Status, 'Complete');
    assert.equal((origin.hits.get('/warm/1.js') ?? 0) - before, 2, 'the two overseas nodes fetched it');
    const nodes = (await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: id })).json.Items[0].Nodes;
    assert.deepEqual(nodes.map((n: any) => n.Node).sort(), ['sim-2', 'sim-4']);
  });

  it('a preload whose origin answers 5xx fails with the documented Description', async () => {
    const id = (await rpc(server.url, 'PushObjectCache', { ObjectPath: 'example.com/status/503/x.js' })).json.PushTaskId;
    const { final } = await untilDone(id);
    assert.deepEqual([final[0].Status, final[0].Description], ['Failed', 'Origin Return StatusCode 5XX']);
  });

  it('a preload whose origin is too slow fails with Origin Timeout', async () => {
    const id = (await rpc(server.url, 'PushObjectCache', { ObjectPath: 'example.com/slow/2000/y.js' })).json.PushTaskId;
    const { final } = await untilDone(id);
    assert.deepEqual([final[0].Status, final[0].Description], ['Failed', 'Origin Timeout']);
  });

  it('a node that keeps failing is retried, then Failed with its reason — never hidden', async () => {
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://broken.example.com/z' })).json.RefreshTaskId;
    const { final } = await untilDone(id);
    assert.deepEqual([final[0].Status, final[0].Description, final[0].Process], ['Failed', 'Internal Error', '0%']);
    const node = (await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: id })).json.Items[0].Nodes[0];
    assert.equal(node.State, 'Failed');
    assert.equal(node.Attempts, 3);
    assert.match(node.Error, /gave up after 3 attempts: simulated failure on broken-1/);
  });

  it('a domain whose group has no nodes fails at once instead of claiming success', async () => {
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://empty.example.com/z' })).json.RefreshTaskId;
    const { final } = await untilDone(id);
    assert.deepEqual([final[0].Status, final[0].Process, final[0].Description], ['Failed', '0%', 'Internal Error']);
  });

  it('a preload of a domain without an origin completes on the simulated fleet', async () => {
    const id = (await rpc(server.url, 'PushObjectCache', { ObjectPath: 'noorigin.example.com/a' })).json.PushTaskId;
    assert.equal((await untilDone(id)).final[0].Status, 'Complete');
  });

  it('the Status filter sees the engine’s states', async () => {
    const failed = await rpc(server.url, 'DescribeRefreshTasks', { ObjectType: 'preload', Status: 'Failed' });
    assert.ok(failed.json.TotalCount >= 2);
    assert.ok(failed.json.Tasks.CDNTask.every((t: any) => t.Status === 'Failed'));
  });
});
