import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { popClient, popRequest } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startOrigin, type Origin } from './harness/origin.js';
import { startVarnish, type Varnish } from './harness/varnish.js';

/**
 * Purge-then-warm (RefreshObjectCaches / RefreshVodObjectCaches with PreloadAfter=true) on three
 * real Varnish nodes in front of one origin, through the official pop-core client: each node
 * held the old body; after the task each serves the new body as a HIT, and the origin saw exactly
 * one fetch per node — the preload, after that node's purge (a preload before the purge would
 * have been a HIT on the old body, fetched nothing, and the purge would then have emptied it).
 */
let origin: Origin;
const varnishes: Varnish[] = [];
let server: TestServer;

before(async () => {
  origin = await startOrigin();
  for (let i = 0; i < 3; i++) varnishes.push(await startVarnish(origin.port));
  server = await startTestServer(
    { engine: { simulatedNodes: 0, pollMs: 50, retryBaseMs: 20, requestTimeoutMs: 3000, attemptTimeoutMs: 5000 } },
    { worker: true },
  );
  for (const [i, v] of varnishes.entries()) {
    await server.store.fleet.addNode({ name: `varnish-${i + 1}`, driver: 'varnish', address: v.address, group: 'pw', area: 'domestic', enabled: true, options: {}, createdAt: 0 });
  }
  for (const [name, product] of [['pw.example.com', 'cdn'], ['pwv.example.com', 'vod']] as const) {
    await server.store.domains.addDomain({ name, accountId: server.accountId, product, origin: origin.url, online: true, nodeGroup: 'pw', createdAt: 0 });
  }
});
after(async () => {
  await server?.close();
  await Promise.all(varnishes.map((v) => v.stop()));
  await origin?.close();
});

/** A client's GET through one node: the body and whether it came from the cache. */
async function get(v: Varnish, host: string, path: string): Promise<{ body: string; cache: string }> {
  const res = await request(`http://${v.address}${path}`, { headers: { host } });
  return { body: await res.body.text(), cache: String(res.headers['x-cache']) };
}

async function waitDone(taskId: string, version = '2018-05-10'): Promise<Record<string, string>[]> {
  const res = await rpc(server.url, 'WaitForTasks', { TaskId: taskId, Timeout: 30 }, { version });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.Done, true, `task ${taskId} not done: ${res.text}`);
  return res.json.Tasks;
}

const fetches = (path: string) => origin.hits.get(path) ?? 0;

describe('purge-then-warm on real Varnish', () => {
  for (const [product, host, action, version] of [
    ['cdn', 'pw.example.com', 'RefreshObjectCaches', '2018-05-10'],
    ['vod', 'pwv.example.com', 'RefreshVodObjectCaches', '2017-03-21'],
  ] as const) {
    it(`${product}: every node serves the new body as a HIT, fetched once per node, after its purge`, async () => {
      const paths = [`/${product}/a.js`, `/${product}/b.css`];
      for (const p of paths) {
        for (const v of varnishes) await get(v, host, p); // cache the old body
        for (const v of varnishes) assert.deepEqual(await get(v, host, p), { body: `${p} v1\n`, cache: 'HIT' });
        origin.bump(p);
      }
      const before = paths.map(fetches);
      assert.deepEqual(before, [3, 3], 'one fetch per node so far');

      const client = popClient(server.url, version);
      const res = await popRequest(client, action, { ObjectPath: paths.map((p) => `http://${host}${p}`).join('\n'), PreloadAfter: true }, 'POST');
      const rows = await waitDone(res.RefreshTaskId, version);
      assert.deepEqual(rows.map((r) => [r.ObjectType, r.Status, r.Process]), [['file', 'Complete', '100%'], ['file', 'Complete', '100%']]);

      assert.deepEqual(paths.map(fetches), [6, 6], 'exactly one more fetch per node and path: the preload');
      for (const p of paths) {
        for (const v of varnishes) assert.deepEqual(await get(v, host, p), { body: `${p} v2\n`, cache: 'HIT' }, `${p} on ${v.address}`);
      }
      assert.deepEqual(paths.map(fetches), [6, 6], 'clients were served from the caches');

      const nodes = await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: res.RefreshTaskId }, { version });
      for (const item of nodes.json.Items) {
        assert.equal(item.Nodes.length, 3);
        for (const n of item.Nodes) {
          // Proved by the node's probe (the group's default): the purge before the preload moved on, the preload's HIT now.
          assert.deepEqual([n.Phase, n.State, n.Error, n.Verified], ['Preload', 'Applied', '', 'Probe'], JSON.stringify(n));
          assert.ok(n.PurgedTime !== '' && n.PurgedTime <= n.AppliedTime, `purged ${n.PurgedTime}, then preloaded ${n.AppliedTime}`);
        }
      }
    });
  }

  it('IgnoreParams: every query-string variant is purged; the URL as given is warmed on every node', async () => {
    const host = 'pw.example.com';
    for (const q of ['?v=1', '?v=2']) for (const v of varnishes) await get(v, host, `/ip/x.js${q}`);
    const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: `http://${host}/ip/x.js?v=3`, ObjectType: 'IgnoreParams', PreloadAfter: 'true' }, { method: 'POST' });
    assert.equal(res.status, 200, res.text);
    const rows = await waitDone(res.json.RefreshTaskId);
    assert.deepEqual(rows.map((r) => [r.ObjectType, r.Status]), [['ignoreparams', 'Complete']]);
    assert.equal(fetches('/ip/x.js?v=3'), 3, 'the preload, once per node');
    for (const v of varnishes) {
      for (const [q, state] of [['?v=1', 404], ['?v=2', 404], ['?v=3', 200]] as const) {
        const probe = await request(`http://${v.address}/ip/x.js${q}`, { method: 'HEAD', headers: { host, 'x-cache-probe': '1' } });
        await probe.body.dump();
        assert.equal(probe.statusCode, state, `${q} on ${v.address}`);
      }
    }
  });

  it('a node whose purge fails never preloads; the row is Failed with the reason', async () => {
    // A fourth node that answers nothing (the discard port): its purge fails for good after its attempts.
    await server.store.fleet.addNode({ name: 'dead-1', driver: 'varnish', address: '127.0.0.1:9', group: 'pw-dead', area: 'domestic', enabled: true, options: {}, createdAt: 0 });
    await server.store.domains.addDomain({ name: 'pwd.example.com', accountId: server.accountId, product: 'cdn', origin: origin.url, online: true, nodeGroup: 'pw-dead', createdAt: 0 });
    const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://pwd.example.com/dead/a.js', PreloadAfter: 'true' });
    assert.equal(res.status, 200, res.text);
    const rows = await waitDone(res.json.RefreshTaskId);
    assert.equal(rows[0].Status, 'Failed');
    const nodes = await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: res.json.RefreshTaskId });
    const n = nodes.json.Items[0].Nodes[0];
    assert.deepEqual([n.Phase, n.State, n.PurgedTime], ['Purge', 'Failed', '']);
    assert.match(n.Error, /varnish unreachable/);
    assert.equal(fetches('/dead/a.js'), 0, 'nothing was warmed');
  });
});
