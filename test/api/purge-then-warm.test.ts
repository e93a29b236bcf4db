import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { popClient, popRequest } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * PreloadAfter on the API (no worker: tasks stay as accepted): which object types take it, what
 * it charges (the refresh and the preload quota, in one decision), and how the refusals read,
 * through the official pop-core client on both products.
 */
let server: TestServer;
before(async () => {
  server = await startTestServer({ quotas: { cdn: { url: 10, ignoreParams: 10, preload: 5, preloadEdge: 5 }, vod: { url: 10, preload: 3, preloadEdge: 3 } } });
  await server.addDomain('example.com');
  await server.addDomain('vod.example.com', 'vod');
});
after(() => server.close());

const cdn = () => popClient(server.url, '2018-05-10');
const vod = () => popClient(server.url, '2017-03-21');
/** pop-core rejects with the error body's Code as `code`, and the HTTP exchange in `entry`. */
const refusal = async (call: Promise<unknown>) => {
  const err = (await call.then(() => assert.fail('accepted'), (e: unknown) => e)) as { code: string; message: string; entry: { response: { statusCode: number } } };
  return { code: err.code, status: err.entry.response.statusCode, message: err.message };
};

describe('PreloadAfter', () => {
  it('rows are the refresh type’s; every node starts in the Purge phase (first: it takes one of the preload quota)', async () => {
    await server.store.fleet.addNode({ name: 'sim-a', driver: 'simulated', address: 'sim/a', group: 'default', area: 'domestic', enabled: true, options: {}, createdAt: 0 });
    const res = await rpc(server.url, 'RefreshVodObjectCaches', { ObjectPath: 'vod.example.com/rows.ts' }, { version: '2017-03-21' });
    assert.equal(res.status, 200, res.text);
    const id = (await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'example.com/rows.js', PreloadAfter: true })).RefreshTaskId;
    const rows = await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: id });
    assert.deepEqual(rows.json.Tasks.map((t: any) => [t.ObjectType, t.Status, t.ObjectPath]), [['file', 'Pending', 'example.com/rows.js']]);
    // No worker here: dispatch by hand, as the worker would.
    await server.store.queue.dispatchAndClaim('test', Date.now(), 60_000, 100, 0);
    // The purge is a hard one whatever Force says: a stale copy must not answer the warm-up.
    const claimed = (await server.store.queue.claimAttempts('test', Date.now(), 60_000, 10)).filter((c) => c.taskId === id);
    assert.deepEqual(claimed.map((c) => [c.phase, c.force]), [['purge', true]]);
    const nodes = await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: id });
    assert.deepEqual(nodes.json.Items[0].Nodes.map((n: any) => [n.Node, n.Phase, n.State, n.PurgedTime, n.AppliedTime]), [['sim-a', 'Purge', 'Pending', '', '']]);
    const plain = await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: res.json.RefreshTaskId }, { version: '2017-03-21' });
    assert.deepEqual(plain.json.Items[0].Nodes.map((n: any) => [n.Phase, n.PurgedTime]), [['', '']], 'other rows have no phase');
  });

  for (const type of ['Directory', 'Regex']) {
    it(`is refused with ObjectType ${type} (InvalidParameter.PreloadAfter, 400)`, async () => {
      const path = type === 'Directory' ? 'example.com/d/' : 'example.com/r/.*\\.js';
      const r = await refusal(popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: path, ObjectType: type, PreloadAfter: true }));
      assert.equal(r.code, 'InvalidParameter.PreloadAfter');
      assert.equal(r.status, 400);
      assert.match(r.message, /PreloadAfter=true is supported only with ObjectType File or IgnoreParams/);
    });
  }

  it('false (or absent) with any type is the plain refresh', async () => {
    const res = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'example.com/d2/', ObjectType: 'Directory', PreloadAfter: false });
    assert.match(res.RefreshTaskId, /^\d+$/);
    const bad = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/a', PreloadAfter: 'yes' });
    assert.deepEqual([bad.status, bad.json.Code], [400, 'InvalidParameter']);
  });

  it('charges the refresh and the preload quotas together; over either, the whole call is refused and nothing is charged', async () => {
    const quota = async () => {
      const { RequestId: _, ...q } = (await popRequest(cdn(), 'DescribeRefreshQuota', {})) as Record<string, string>;
      return q;
    };
    const start = await quota();
    const res = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'example.com/q1.js\nexample.com/q2.js\nexample.com/q3.js', PreloadAfter: true }, 'POST');
    assert.match(res.RefreshTaskId, /^\d+$/);
    const after1 = await quota();
    assert.deepEqual([+start.UrlRemain - +after1.UrlRemain, +start.PreloadRemain - +after1.PreloadRemain, +start.PreloadEdgeRemain - +after1.PreloadEdgeRemain], [3, 3, 3]);

    // Two more URLs fit the URL quota (7 left) but not the preload quota (1 left): refused whole.
    const r = await refusal(popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'example.com/q4.js\nexample.com/q5.js', PreloadAfter: true }, 'POST'));
    assert.deepEqual([r.code, r.status], ['QuotaExceeded.Refresh', 400]);
    assert.deepEqual(await quota(), after1, 'nothing charged');
    // The same two without the warm-up are a plain refresh, charged to the URL quota only.
    await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'example.com/q4.js\nexample.com/q5.js' }, 'POST');
    assert.deepEqual([+(await quota()).UrlRemain, +(await quota()).PreloadRemain], [+after1.UrlRemain - 2, +after1.PreloadRemain]);

    // IgnoreParams takes it too, charged to IgnoreParamsQuota and the preload quota.
    await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'example.com/ip.js?v=2', ObjectType: 'IgnoreParams', PreloadAfter: true }, 'POST');
    const end = await quota();
    assert.deepEqual([+after1.IgnoreParamsRemain - +end.IgnoreParamsRemain, +end.PreloadRemain], [1, 0]);
  });

  it('VOD: RefreshVodObjectCaches takes it with the VOD preload quota', async () => {
    const res = await popRequest(vod(), 'RefreshVodObjectCaches', { ObjectPath: 'vod.example.com/v/1.ts\nvod.example.com/v/2.ts\nvod.example.com/v/3.ts', PreloadAfter: true }, 'POST');
    assert.match(res.RefreshTaskId, /^\d+$/);
    const q = (await popRequest(vod(), 'DescribeVodRefreshQuota', {})) as Record<string, string>;
    assert.deepEqual([q.UrlRemain, q.PreloadRemain], ['6', '0'], 'one URL went to a plain refresh before');
    const r = await refusal(popRequest(vod(), 'RefreshVodObjectCaches', { ObjectPath: 'vod.example.com/v/4.ts', PreloadAfter: true }));
    assert.equal(r.code, 'QuotaExceeded.Refresh');
    const d = await refusal(popRequest(vod(), 'RefreshVodObjectCaches', { ObjectPath: 'vod.example.com/v/', ObjectType: 'Directory', PreloadAfter: true }));
    assert.equal(d.code, 'InvalidParameter.PreloadAfter');
  });

});
