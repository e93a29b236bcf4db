import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addAccount, addKey, addPolicy, addUser, attachPolicy } from '../../src/identity/admin.js';
import { setWebhook } from '../../src/webhooks/admin.js';
import { startOrigin, type Origin } from '../edges/harness/origin.js';
import { popClient, popRequest } from '../helpers/clients.js';
import { startHeldNode, type HeldNode } from '../helpers/held-node.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../helpers/settle.js';
import { startReceiver, type Receiver } from '../webhooks/receiver.js';

/**
 * CancelRefreshTasks end to end: a real server with its worker, the official pop-core client on
 * both products, a fleet of slow simulated nodes (tasks stay running long enough to be canceled)
 * and one plain HTTP "node" driven by the Varnish driver that answers each purge when the test
 * releases it (test/helpers/held-node.ts), a
 * WaitForTasks call held open across the cancel, and a webhook receiver.
 */
let server: TestServer;
let origin: Origin;
let receiver: Receiver;
let counted: HeldNode;

before(async () => {
  origin = await startOrigin();
  receiver = await startReceiver();
  // A cache node that answers each purge when the test releases it, one at a time.
  counted = await startHeldNode();
  server = await startTestServer(
    {
      engine: { simulatedNodes: 0, pollMs: 50, retryBaseMs: 50, maxAttempts: 3 },
      webhooks: { pollMs: 50, retryBaseMs: 50, retryMaxMs: 200, maxAttempts: 3, timeoutMs: 2000, leaseMs: 5000 },
    },
    { worker: true },
  );
  const node = (name: string, group: string, options: Record<string, unknown>, driver = 'simulated', address = `simulated/${name}`) =>
    server.store.fleet.addNode({ name, driver, address, group, area: 'domestic', enabled: true, options, createdAt: Date.now() });
  await node('fast-1', 'default', { latencyMs: [5, 20] });
  await node('fast-2', 'default', { latencyMs: [5, 20] });
  await node('slow-1', 'slow', { latencyMs: [400, 400], concurrency: 1 });
  await node('slow-2', 'slow', { latencyMs: [400, 400], concurrency: 1 });
  await node('counted', 'counted', { concurrency: 1 }, 'varnish', counted.address);
  // A plain HTTP server has no cache to probe: its group takes each node's answer (`ack`).
  await server.store.fleet.setNodeGroup({ name: 'counted', verify: 'ack' });
  const domain = (name: string, group: string, product: 'cdn' | 'vod' = 'cdn') =>
    server.store.domains.addDomain({ name, accountId: server.accountId, product, origin: origin.url, online: true, nodeGroup: group, createdAt: Date.now() });
  await domain('fast.example.com', 'default');
  await domain('slow.example.com', 'slow');
  await domain('counted.example.com', 'counted');
  await domain('video.example.com', 'slow', 'vod');
});
after(async () => {
  await server?.close();
  await receiver?.close();
  await origin?.close();
  await counted?.close();
});

const cdn = () => popClient(server.url, '2018-05-10');
const vod = () => popClient(server.url, '2017-03-21');
const urls = (domain: string, n: number, tag: string) => Array.from({ length: n }, (_, i) => `http://${domain}/${tag}/${i}.js`).join('\n');
const nodesOf = async (taskId: string, client = cdn()) => (await popRequest(client, 'DescribeRefreshTaskNodes', { TaskId: taskId, PageSize: 100 })).Items as any[];
/** pop-core's answers are null-prototype objects: compare their JSON. */
const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
const states = (items: any[]) => items.flatMap((i) => i.Nodes.map((n: any) => `${n.State}:${n.Error}`));

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const method of ['GET', 'POST'] as const) {
  describe(`CancelRefreshTasks through pop-core (${method})`, () => {
    it('stops a running task: what nodes applied stays, the rest is Failed with the reason canceled', async () => {
      const { RefreshTaskId: id } = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: urls('slow.example.com', 6, method) }, method);
      await until('a first node to confirm', async () => states(await nodesOf(id)).some((s) => s.startsWith('Applied')));

      const res = await popRequest(cdn(), 'CancelRefreshTasks', { TaskId: id }, method);
      assert.match(res.RequestId, /^[0-9A-F-]{36}$/);
      assert.equal(res.TotalCount, 1);
      const [t] = res.Tasks;
      assert.deepEqual(Object.keys(t).sort(), ['AppliedNodes', 'CanceledItems', 'CanceledNodes', 'Items', 'Status', 'TaskId']);
      assert.deepEqual([t.TaskId, t.Status, t.Items], [id, 'Failed', 6]);
      assert.ok(t.AppliedNodes >= 1 && t.AppliedNodes < 12, `applied ${t.AppliedNodes}`);
      assert.equal(t.AppliedNodes + t.CanceledNodes, 12, 'every node of every item: applied before, or canceled');
      assert.ok(t.CanceledItems >= 4);

      const items = await nodesOf(id);
      assert.equal(states(items).filter((s) => s === 'Applied:').length, t.AppliedNodes);
      assert.equal(states(items).filter((s) => s === 'Failed:canceled').length, t.CanceledNodes);
      for (const item of items) {
        assert.ok(['Complete', 'Failed'].includes(item.Status), item.Status);
        if (item.Status === 'Failed') assert.equal(item.Description, 'Canceled');
      }
      const rows = (await popRequest(cdn(), 'DescribeRefreshTaskById', { TaskId: id }, method)).Tasks as any[];
      assert.equal(rows.filter((r) => r.Status === 'Failed' && r.Description === 'Canceled').length, items.filter((i) => i.Status === 'Failed').length);

      // The attempts the worker was running when the cancel came finish now: they change nothing.
      await new Promise((r) => setTimeout(r, 900));
      assert.deepEqual(states(await nodesOf(id)), states(items));
      const again = await popRequest(cdn(), 'CancelRefreshTasks', { TaskId: id }, method);
      assert.deepEqual(plain(again.Tasks), [{ ...t, CanceledItems: 0, CanceledNodes: 0 }], 'a finished task answers unchanged');
    });
  });
}

describe('CancelRefreshTasks', () => {
  it('a node never gets the work the worker held and had not started', async () => {
    const { RefreshTaskId: id } = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: urls('counted.example.com', 8, 'held') }, 'POST');
    // The node answers the first purge; the worker records it and sends the second, which the
    // node keeps running. So at the cancel the store has counted exactly what the node answered
    // (no answer is on its way to the store), one purge is running and six wait in the worker.
    await eventually(() => counted.received.length === 1, 'the first purge to reach the node');
    counted.release();
    await eventually(async () => states(await nodesOf(id)).includes('Applied:') && counted.received.length === 2, 'the first purge counted, the second at the node');
    const [t] = (await popRequest(cdn(), 'CancelRefreshTasks', { TaskId: id })).Tasks;
    assert.deepEqual([t.AppliedNodes, t.CanceledNodes], [1, 7], 'the one answered stays applied; the running one and the six held are canceled');
    // The purge the node was running finishes now. Were the held ones not dropped, its slot would
    // pass straight to the next: give that a second to show.
    counted.release();
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(counted.received.filter((p) => p.startsWith('/held/')).length, 2, 'what it applied and the one it was running when the cancel came; nothing more');
    assert.equal(counted.waiting, 0);
  });

  it('a WaitForTasks held on the task answers Done at the cancel, and the webhook sends TaskFinished Failed', async () => {
    const { account, key } = await addAccount(server.store, server.vault, 'cancel-hooked');
    await server.store.domains.addDomain({ name: 'hooked.example.com', accountId: account.id, product: 'cdn', origin: origin.url, online: true, nodeGroup: 'slow', createdAt: Date.now() });
    await setWebhook(server.store, server.vault, account, `${receiver.url}/hooked`);
    const as = { accessKeyId: key.accessKeyId, secret: key.secret };
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: urls('hooked.example.com', 5, 'w') }, as)).json.RefreshTaskId as string;
    const held = rpc(server.url, 'WaitForTasks', { TaskId: id, Timeout: 30 }, as);
    await new Promise((r) => setTimeout(r, 300));
    const canceledAt = Date.now();
    const cancel = await rpc(server.url, 'CancelRefreshTasks', { TaskId: id }, as);
    assert.equal(cancel.status, 200, cancel.text);
    const waited = await held;
    assert.ok(Date.now() - canceledAt < 2_000, `WaitForTasks answered ${Date.now() - canceledAt} ms after the cancel`);
    assert.equal(waited.json.Done, true);
    assert.ok(waited.json.Tasks.every((r: any) => r.Status === 'Complete' || r.Status === 'Failed'));

    const got = await receiver.waitFor((r) => r.json?.TaskId === id);
    assert.equal(got.path, '/hooked');
    assert.equal(got.json.Status, 'Failed');
    const failed = got.json.Items.filter((i: any) => i.Status === 'Failed');
    assert.ok(failed.length >= 3);
    for (const i of failed) {
      assert.equal(i.Description, 'Canceled');
      assert.equal(i.Nodes.Pending, 0);
      assert.ok(i.Nodes.FailedNodes.every((n: any) => n.Error === 'canceled'));
    }
  });

  it('cancels a VOD preload through the VOD API; a CDN task is not found there', async () => {
    const { PreloadTaskId: id } = await popRequest(vod(), 'PreloadVodObjectCaches', { ObjectPath: urls('video.example.com', 4, 'v') }, 'POST');
    const { RefreshTaskId: cdnId } = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: urls('slow.example.com', 1, 'v') });
    const res = await popRequest(vod(), 'CancelRefreshTasks', { TaskId: `${cdnId},${id}` });
    assert.equal(res.TotalCount, 1);
    assert.deepEqual([res.Tasks[0].TaskId, res.Tasks[0].Status, res.Tasks[0].Items], [id, 'Failed', 4]);
    const rows = (await popRequest(cdn(), 'DescribeRefreshTaskById', { TaskId: cdnId })).Tasks as any[];
    assert.notEqual(rows[0].Description, 'Canceled', 'the CDN task was not touched');
  });

  it('a task that had finished is answered with its state unchanged', async () => {
    const { RefreshTaskId: id } = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: urls('fast.example.com', 3, 'done') });
    assert.equal((await popRequest(cdn(), 'WaitForTasks', { TaskId: id, Timeout: 20 }, 'GET')).Done, true);
    const res = await popRequest(cdn(), 'CancelRefreshTasks', { TaskId: id });
    assert.deepEqual(plain(res.Tasks), [{ TaskId: id, Status: 'Complete', Items: 3, CanceledItems: 0, CanceledNodes: 0, AppliedNodes: 6 }]);
  });

  it("another account's task can be neither canceled nor confirmed to exist", async () => {
    const { account, key } = await addAccount(server.store, server.vault, 'cancel-other');
    await server.store.domains.addDomain({ name: 'theirs.example.com', accountId: account.id, product: 'cdn', origin: null, online: true, nodeGroup: 'slow', createdAt: Date.now() });
    const theirs = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: urls('theirs.example.com', 2, 't') }, { accessKeyId: key.accessKeyId, secret: key.secret })).json.RefreshTaskId;
    const unknown = await rpc(server.url, 'CancelRefreshTasks', { TaskId: '99999999999' });
    const foreign = await rpc(server.url, 'CancelRefreshTasks', { TaskId: theirs });
    assert.equal(foreign.status, 200);
    assert.deepEqual([foreign.json.TotalCount, foreign.json.Tasks], [0, []]);
    assert.equal(foreign.text.replace(/"RequestId":"[^"]+"/, ''), unknown.text.replace(/"RequestId":"[^"]+"/, ''), 'the same answer as an id that names nothing');
    const rows = (await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: theirs }, { accessKeyId: key.accessKeyId, secret: key.secret })).json.Tasks;
    assert.ok(rows.every((r: any) => r.Description !== 'Canceled'), 'still running');
  });

  it('answers the documented errors, and XML', async () => {
    const missing = await rpc(server.url, 'CancelRefreshTasks', {});
    assert.deepEqual([missing.status, missing.json.Code], [400, 'MissingParameter']);
    for (const bad of ['abc', '1,,2', Array.from({ length: 11 }, (_, i) => String(17000000001 + i)).join(',')]) {
      const res = await rpc(server.url, 'CancelRefreshTasks', { TaskId: bad });
      assert.deepEqual([res.status, res.json.Code], [400, 'InvalidTaskId.Malformed'], bad);
    }
    const { RefreshTaskId: id } = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: urls('slow.example.com', 1, 'xml') });
    const xml = await rpc(server.url, 'CancelRefreshTasks', { TaskId: id }, { format: 'XML' });
    assert.equal(xml.status, 200);
    assert.match(xml.text, new RegExp(`<CancelRefreshTasksResponse><RequestId>[0-9A-F-]{36}</RequestId><Tasks><TaskId>${id}</TaskId><Status>Failed</Status><Items>1</Items><CanceledItems>1</CanceledItems><CanceledNodes>2</CanceledNodes><AppliedNodes>0</AppliedNodes></Tasks><TotalCount>1</TotalCount></CancelRefreshTasksResponse>`));
  });

  it('is a RAM action of its own', async () => {
    const account = (await server.store.identity.getAccount(server.accountId))!;
    const allow = (name: string, action: string) => JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: [action, 'cdn:RefreshObjectCaches'], Resource: '*' }] });
    const creds: Record<string, { accessKeyId: string; secret: string }> = {};
    for (const [name, action] of [['cancel-reader', 'cdn:Describe*'], ['canceler', 'cdn:CancelRefreshTasks']]) {
      await addUser(server.store, account, name);
      await addPolicy(server.store, account, name, allow(name, action));
      await attachPolicy(server.store, account, name, name);
      const key = await addKey(server.store, server.vault, account, name);
      creds[name] = { accessKeyId: key.accessKeyId, secret: key.secret };
    }
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: urls('slow.example.com', 1, 'ram') }, creds.canceler)).json.RefreshTaskId;
    const refused = await rpc(server.url, 'CancelRefreshTasks', { TaskId: id }, creds['cancel-reader']);
    assert.deepEqual([refused.status, refused.json.Code], [403, 'Forbidden.RAM']);
    const allowed = await rpc(server.url, 'CancelRefreshTasks', { TaskId: id }, creds.canceler);
    assert.deepEqual([allowed.status, allowed.json.Tasks[0].Status], [200, 'Failed']);
  });
});
