import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { popClient } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** WaitForTasks: a long-poll that answers when the tasks are done, not before, and not much after. */
let server: TestServer;
before(async () => {
  server = await startTestServer({ engine: { simulatedNodes: 2, simulatedLatencyMs: [300, 600], pollMs: 50 } }, { worker: true });
  await server.addDomain('wait.example.com');
});
after(() => server.close());

describe('WaitForTasks', () => {
  it('holds the request until every row is terminal, then answers Done', async () => {
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://wait.example.com/a\nhttp://wait.example.com/b' })).json.RefreshTaskId;
    const t0 = Date.now();
    const res = await rpc(server.url, 'WaitForTasks', { TaskId: id, Timeout: 20 });
    const waited = Date.now() - t0;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.Done, true);
    assert.equal(res.json.TotalCount, 2);
    assert.deepEqual(res.json.Tasks.map((t: any) => t.Status), ['Complete', 'Complete']);
    // Held while the nodes work (300–600 ms each), answered once they are done: long before the
    // 20 s Timeout, with room for a loaded machine (it took 2.8 s at load average 13).
    assert.ok(waited >= 250 && waited < 8_000, `answered after ${waited} ms: once done, not before`);
  });

  it('answers Done=false with the current rows when Timeout passes first', async () => {
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://wait.example.com/slow' })).json.RefreshTaskId;
    const t0 = Date.now();
    const res = await rpc(server.url, 'WaitForTasks', { TaskId: id, Timeout: 0 });
    // Not held at all: Timeout is in whole seconds, so any hold (0 read as 1, or as the default
    // 20) lasts 1 s at least. Below that, the rest is room for one call on a loaded machine.
    const took = Date.now() - t0;
    assert.ok(took < 1_000, `answered after ${took} ms`);
    assert.equal(res.json.Done, false);
    assert.ok(['Pending', 'Refreshing'].includes(res.json.Tasks[0].Status));
  });

  it('works through pop-core with a longer timeout, and checks its parameters', async () => {
    const client = popClient(server.url);
    const id = (await client.request('RefreshObjectCaches', { ObjectPath: 'http://wait.example.com/c' }, { method: 'POST' }) as any).RefreshTaskId;
    const res = (await client.request('WaitForTasks', { TaskId: id, Timeout: 8 }, { timeout: 10_000 })) as any;
    assert.equal(res.Done, true);
    await assert.rejects(client.request('WaitForTasks', { TaskId: id, Timeout: 61 }, {}), (e: any) => e.code === 'InvalidParameter');
    await assert.rejects(client.request('WaitForTasks', { TaskId: 'x' }, {}), (e: any) => e.code === 'InvalidTaskId.Malformed');
  });
});
