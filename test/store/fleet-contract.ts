import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/store/port.js';
import { dispatchPending } from './harness.js';

/**
 * Domains changed and removed, node-group settings, and how each node's outcome was verified
 * (recorded with the outcome, shown by attemptsOfTasks): the same on every store.
 */
export function fleetContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}: domain changes, node groups, verification`, () => {
    let store: Store;
    let acct: number;
    const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);

    before(async () => {
      store = await open();
      acct = (await store.identity.createAccount({ uid: '1000000000000091', name: 'fc', createdAt: T0 })).id;
      for (const n of ['fc-1', 'fc-2', 'fc-3']) {
        await store.fleet.addNode({ name: n, driver: 'varnish', address: `127.0.0.1:1`, group: 'fc', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      }
      await store.domains.addDomain({ name: 'fc.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: T0 });
    });
    after(() => store.close());

    it('updateDomain changes only what it is given; removeDomain unregisters', async () => {
      assert.equal(await store.domains.updateDomain('fc.example.com', { nodeGroup: 'fc' }), true);
      let d = await store.domains.findDomain('fc.example.com');
      assert.deepEqual([d?.nodeGroup, d?.origin, d?.product], ['fc', null, 'cdn']);
      assert.equal(await store.domains.updateDomain('fc.example.com', { origin: 'http://o.example', product: 'vod' }), true);
      d = await store.domains.findDomain('fc.example.com');
      assert.deepEqual([d?.nodeGroup, d?.origin, d?.product], ['fc', 'http://o.example', 'vod']);
      assert.equal(await store.domains.updateDomain('fc.example.com', { product: 'cdn' }), true);
      assert.equal(await store.domains.updateDomain('none.example.com', { nodeGroup: 'x' }), false);
      await store.domains.addDomain({ name: 'gone.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'fc', createdAt: T0 });
      assert.equal(await store.domains.removeDomain('gone.example.com'), true);
      assert.equal(await store.domains.findDomain('gone.example.com'), undefined);
      assert.equal(await store.domains.removeDomain('gone.example.com'), false);
    });

    it('node-group settings are created, replaced and listed by name', async () => {
      assert.deepEqual(await store.fleet.listNodeGroups(), []);
      await store.fleet.setNodeGroup({ name: 'fc', verify: 'ack' });
      await store.fleet.setNodeGroup({ name: 'alpha', verify: 'probe' });
      await store.fleet.setNodeGroup({ name: 'fc', verify: 'probe' });
      assert.deepEqual(await store.fleet.listNodeGroups(), [{ name: 'alpha', verify: 'probe' }, { name: 'fc', verify: 'probe' }]);
    });

    it('how each outcome was verified is recorded with it; a retry records nothing', async () => {
      const out = await store.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: T0, consume: [],
        tasks: [{ domain: 'fc.example.com', objectType: 'file', force: true, area: null, l2Preload: false, withHeader: null, paths: ['fc.example.com/v'] }],
      });
      assert.ok(out.ok);
      await dispatchPending(store, T0, 10);
      const claimed = await store.queue.claimAttempts('fc-w', T0, 60_000, 10);
      assert.equal(claimed.length, 3);
      const [one, two, three] = [...claimed].sort((x, y) => x.nodeId - y.nodeId);
      await store.queue.recordOutcomes(T0 + 1, [
        { itemId: one.itemId, nodeId: one.nodeId, lease: one.lease, state: 'applied', verifiedBy: 'probe' },
        { itemId: two.itemId, nodeId: two.nodeId, lease: two.lease, state: 'failed', error: 'purge acknowledged but object still cached', description: 'Internal Error', verifiedBy: 'probe' },
        { itemId: three.itemId, nodeId: three.nodeId, lease: three.lease, state: 'retry', error: 'ECONNREFUSED', nextRunAt: T0 + 10 },
      ]);
      const rows = await store.tasks.attemptsOfTasks(acct, 'cdn', out.taskIds, 0);
      assert.deepEqual(rows.map((r) => [r.node, r.state, r.verifiedBy]), [['fc-1', 'applied', 'probe'], ['fc-2', 'failed', 'probe'], ['fc-3', 'pending', null]]);
      const [again] = await store.queue.claimAttempts('fc-w', T0 + 10, 60_000, 10);
      await store.queue.recordOutcomes(T0 + 11, [{ itemId: again.itemId, nodeId: again.nodeId, lease: again.lease, state: 'applied', verifiedBy: 'ack' }]);
      const last = (await store.tasks.attemptsOfTasks(acct, 'cdn', out.taskIds, 0)).find((r) => r.node === 'fc-3');
      assert.deepEqual([last?.state, last?.verifiedBy], ['applied', 'ack']);
    });
  });
}
