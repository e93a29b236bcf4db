import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startOrigin, type Origin } from '../edges/harness/origin.js';
import { untilNodesSettled } from '../helpers/settle.js';

/**
 * Issue 16 end to end on a real server with its worker: purge by cache tag on the simulated
 * fleet and its refusal on a cache that keeps no tags, DescribePreloadDetailById from real
 * per-node outcomes, and seed 004's statuses in DescribeRefreshTasks against seeds 001/002.
 */
let server: TestServer;
let origin: Origin;
const VOD = { version: '2017-03-21' };

before(async () => {
  origin = await startOrigin();
  server = await startTestServer(
    { engine: { simulatedNodes: 3, simulatedLatencyMs: [10, 60], retryBaseMs: 20, maxAttempts: 2, pollMs: 50, leaseMs: 3000, requestTimeoutMs: 2000 } },
    { worker: true },
  );
  await server.addDomain('example.com', 'cdn', origin.url);
  await server.addDomain('vod.example.com', 'vod', origin.url);
  // nginx keeps no cache tags: its node refuses before sending anything (the address is never dialled).
  await server.store.fleet.addNode({ name: 'nginx-1', driver: 'nginx', address: '127.0.0.1:9', group: 'nginx', area: 'domestic', enabled: true, options: { purgePrefix: '/purge' }, createdAt: 0 });
  await server.store.domains.addDomain({ name: 'nginx.example.com', accountId: server.accountId, product: 'cdn', origin: null, online: true, nodeGroup: 'nginx', createdAt: 0 });
  // A node that takes a minute: its items stay unconfirmed for the whole test.
  for (const product of ['cdn', 'vod'] as const) {
    await server.store.fleet.addNode({ name: `slow-${product}`, driver: 'simulated', address: `simulated/slow-${product}`, group: `slow-${product}`, area: 'domestic', enabled: true, options: { latencyMs: [60_000, 60_000] }, createdAt: 0 });
    await server.store.domains.addDomain({ name: `slow-${product}.example.com`, accountId: server.accountId, product, origin: null, online: true, nodeGroup: `slow-${product}`, createdAt: 0 });
  }
});
after(async () => {
  await server.close();
  await origin.close();
});

async function untilDone(taskId: string, timeoutMs = 8000): Promise<Record<string, string>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = (await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: taskId })).json.Tasks as Record<string, string>[];
    if (rows.length > 0 && rows.every((t) => t.Status === 'Complete' || t.Status === 'Failed')) return rows;
    if (Date.now() > deadline) throw new Error(`task ${taskId} not done: ${JSON.stringify(rows)}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

describe('RefreshObjectCacheByCacheTag on the fleet', () => {
  it('the simulated fleet confirms each tag on every node; rows are cachetag rows named by the tag', async () => {
    const res = await rpc(server.url, 'RefreshObjectCacheByCacheTag', { CacheTag: 'sale,product-7,sale', DomainName: 'EXAMPLE.com', Force: 'true' });
    assert.equal(res.status, 200, res.text);
    const id = res.json.RefreshTaskId;
    const rows = await untilDone(id);
    assert.deepEqual(rows.map((r) => [r.ObjectType, r.ObjectPath, r.Status, r.Process]).sort(), [['cachetag', 'product-7', 'Complete', '100%'], ['cachetag', 'sale', 'Complete', '100%']]);
    const nodes = await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: id });
    assert.deepEqual(nodes.json.Items.map((i: any) => i.Nodes.filter((n: any) => n.State === 'Applied').length), [3, 3]);
    const listed = await rpc(server.url, 'DescribeRefreshTasks', { ObjectType: 'cachetag', DomainName: 'example.com' });
    assert.equal(listed.json.TotalCount, 2);
    assert.deepEqual(listed.json.Tasks.CDNTask.map((r: any) => r.TaskId), [id, id]);
  });

  it('a cache that keeps no tags refuses with the reason, and the row is Failed', async () => {
    const id = (await rpc(server.url, 'RefreshObjectCacheByCacheTag', { CacheTag: 'sale', DomainName: 'nginx.example.com' })).json.RefreshTaskId;
    const rows = await untilDone(id);
    assert.deepEqual(rows.map((r) => [r.Status, r.Description]), [['Failed', 'Internal Error']]);
    const node = (await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: id })).json.Items[0].Nodes[0];
    assert.equal(node.State, 'Failed');
    assert.equal(node.Attempts, 1, 'refused at once, not retried');
    assert.match(node.Error, /^nginx node nginx-1 cannot purge by cache tag: nginx keys its cache on URLs alone and keeps no tags\./);
  });

  it('each tag counts against the daily directory quota', async () => {
    const before = (await rpc(server.url, 'DescribeCdnUserQuota', {})).json;
    await rpc(server.url, 'RefreshObjectCacheByCacheTag', { CacheTag: 'q1,q2,q3', DomainName: 'example.com' });
    const after = (await rpc(server.url, 'DescribeCdnUserQuota', {})).json;
    assert.equal(before.RefreshDirRemain - after.RefreshDirRemain, 3);
    assert.equal(after.RefreshUrlRemain, before.RefreshUrlRemain);
    const legacy = (await rpc(server.url, 'DescribeRefreshQuota', {})).json;
    assert.equal(legacy.DirRemain, String(after.RefreshDirRemain), 'the same bucket as DescribeRefreshQuota');
    assert.equal(legacy.UrlRemain, String(after.RefreshUrlRemain));
    assert.equal(legacy.PreloadRemain, String(after.PreloadRemain));
  });
});

describe('DescribePreloadDetailById from real node outcomes', () => {
  it('URLs warmed on every node, and one the origin fails: Failed, RetCode 1, per-URL share and description', async () => {
    const paths = ['http://example.com/warm/a.js', 'http://example.com/status/503/b.js'];
    const id = (await rpc(server.url, 'PushObjectCache', { ObjectPath: paths.join('\n') })).json.PushTaskId;
    await untilDone(id);
    // The item is Failed when its first node gives up; the other nodes may still be retrying.
    const nodes = (await untilNodesSettled(server.url, id)).flatMap((i) => i.Nodes);
    const res = await rpc(server.url, 'DescribePreloadDetailById', { TaskId: id });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.TotalCount, 1);
    const d = res.json.UrlDetails[0];
    assert.deepEqual([d.TaskId, d.Domain, d.Status, d.RetCode, d.Process], [id, 'example.com', 'Failed', '1', '50%']);
    assert.deepEqual(d.Urls, [
      { Url: paths[0], Success: '100%', Description: 'Successfully preloaded' },
      { Url: paths[1], Success: '0%', Description: 'Origin Return StatusCode 5XX' },
    ]);
    assert.deepEqual(nodes.map((n) => [n.State, n.AppliedTime === '']).sort(), [...Array(3).fill(['Applied', false]), ...Array(3).fill(['Failed', true])].sort(), 'AppliedTime only where applied');
    const applied = nodes.map((n) => n.AppliedTime).filter(Boolean).sort();
    assert.ok(d.EndTime >= applied.at(-1)!, 'EndTime is when the last node finished, applied or failed');
    assert.ok(d.EndTime >= d.CreationTime);
  });

  it('a preload warmed everywhere is Complete with RetCode 0; a refresh task id answers nothing', async () => {
    const id = (await rpc(server.url, 'PushObjectCache', { ObjectPath: 'http://example.com/warm/c.js' })).json.PushTaskId;
    await untilDone(id);
    const d = (await rpc(server.url, 'DescribePreloadDetailById', { TaskId: id })).json.UrlDetails[0];
    assert.deepEqual([d.Status, d.RetCode, d.Process, d.Urls[0].Success], ['Complete', '0', '100%', '100%']);
    const refresh = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://example.com/r.js' })).json.RefreshTaskId;
    const none = (await rpc(server.url, 'DescribePreloadDetailById', { TaskId: refresh })).json;
    assert.deepEqual([none.TotalCount, none.UrlDetails], [0, []]);
  });

  it('while nodes are working: Refreshing, no RetCode, no EndTime', async () => {
    const id = (await rpc(server.url, 'PushObjectCache', { ObjectPath: 'slow-cdn.example.com/p.js' })).json.PushTaskId;
    const d = (await rpc(server.url, 'DescribePreloadDetailById', { TaskId: id })).json.UrlDetails[0];
    assert.deepEqual([d.Status, d.RetCode, d.EndTime, d.Process, d.Urls[0].Description], ['Refreshing', '', '', '0%', '']);
  });
});

describe("seed 004's statuses: DescribeRefreshTasks never says Pending", () => {
  let cdnTask: string;
  let vodTask: string;
  before(async () => {
    cdnTask = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'slow-cdn.example.com/x.css\nslow-cdn.example.com/y.css' })).json.RefreshTaskId;
    vodTask = (await rpc(server.url, 'RefreshVodObjectCaches', { ObjectPath: 'slow-vod.example.com/x.mp4' }, VOD)).json.RefreshTaskId;
    await server.addDomain('done.example.com');
    await untilDone((await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'done.example.com/z.css' })).json.RefreshTaskId);
  });

  it('an item no node has confirmed is Refreshing in DescribeRefreshTasks, Pending in DescribeRefreshTaskById', async () => {
    const listed = (await rpc(server.url, 'DescribeRefreshTasks', { TaskId: cdnTask })).json;
    assert.deepEqual(listed.Tasks.CDNTask.map((r: any) => [r.Status, r.Process]), [['Refreshing', '0%'], ['Refreshing', '0%']]);
    const byId = (await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: cdnTask })).json;
    assert.deepEqual(byId.Tasks.map((r: any) => r.Status), ['Pending', 'Pending']);
  });

  it('Status=Refreshing finds it, with an exact TotalCount; Status=Pending (extension) finds only the unconfirmed', async () => {
    // Two unconfirmed rows (slow-cdn) and one Complete (done): only the two are Refreshing.
    const filter = { ObjectType: 'file', DomainName: 'slow-cdn.example.com,done.example.com' };
    const all = (await rpc(server.url, 'DescribeRefreshTasks', filter)).json;
    assert.deepEqual(all.Tasks.CDNTask.map((r: any) => r.Status).sort(), ['Complete', 'Refreshing', 'Refreshing']);
    const refreshing = (await rpc(server.url, 'DescribeRefreshTasks', { ...filter, Status: 'Refreshing', PageSize: 1 })).json;
    assert.equal(refreshing.TotalCount, 2, 'TotalCount counts every match, not the page');
    assert.deepEqual(refreshing.Tasks.CDNTask.map((r: any) => [r.TaskId, r.Status]), [[cdnTask, 'Refreshing']]);
    const complete = (await rpc(server.url, 'DescribeRefreshTasks', { ...filter, Status: 'Complete' })).json;
    assert.deepEqual(complete.Tasks.CDNTask.map((r: any) => r.ObjectPath), ['done.example.com/z.css']);
    const pending = (await rpc(server.url, 'DescribeRefreshTasks', { ObjectType: 'file', Status: 'Pending', DomainName: 'slow-cdn.example.com' })).json;
    assert.equal(pending.TotalCount, 2);
    assert.ok(pending.Tasks.CDNTask.every((r: any) => r.Status === 'Refreshing'));
    assert.ok(!JSON.stringify(all).includes('"Pending"'));
  });

  it('DescribeVodRefreshTasks keeps Pending (seed 002)', async () => {
    const vod = (await rpc(server.url, 'DescribeVodRefreshTasks', { TaskId: vodTask }, VOD)).json;
    assert.deepEqual(vod.Tasks.Task.map((r: any) => r.Status), ['Pending']);
    const pending = (await rpc(server.url, 'DescribeVodRefreshTasks', { ObjectType: 'file', Status: 'Pending' }, VOD)).json;
    assert.equal(pending.TotalCount, 1);
  });
});
