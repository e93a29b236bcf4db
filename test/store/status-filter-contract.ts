import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ItemQuery, Store } from '../../src/store/port.js';
import { dispatchPending } from './harness.js';

/**
 * Issue 16 in the stores: a status filter naming several statuses (CDN's `Refreshing` is Pending
 * or Refreshing, seed 004), through the per-hour counts and the row scan alike, with exact
 * totals and paging; and cache-tag items (ObjectType `cachetag`, ObjectPath the tag).
 */
export function statusFilterContract(name: string, open: () => Promise<Store>): void {
  describe(`status lists and cache-tag items: ${name}`, () => {
    let store: Store;
    let account: number;
    const T0 = Date.UTC(2026, 10, 20, 12, 30, 0);
    let taskId: string;
    const query = (extra: Partial<ItemQuery>) =>
      store.tasks.queryItems({ accountId: account, product: 'cdn', from: T0 - 5 * 3_600_000, to: T0 + 5 * 3_600_000, offset: 0, limit: 10, ...extra });

    before(async () => {
      store = await open();
      account = (await store.identity.createAccount({ uid: '1000000000000041', name: 'st', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'st.example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'st', createdAt: T0 });
      for (const n of ['st-1', 'st-2']) {
        await store.fleet.addNode({ name: n, driver: 'simulated', address: `simulated/${n}`, group: 'st', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      }
      const tag = { domain: 'st.example.com', objectType: 'cachetag' as const, force: false, area: null, l2Preload: false, withHeader: null };
      const out = await store.tasks.submit({ accountId: account, product: 'cdn', createdAt: T0, consume: [], tasks: [{ ...tag, paths: ['complete', 'refreshing', 'pending'] }] });
      assert.ok(out.ok);
      taskId = out.taskIds[0];
      await dispatchPending(store, T0 + 1, 100);
      const claimed = await store.queue.claimAttempts('w', T0 + 2, 60_000, 100);
      const items = await store.tasks.itemsOfTasks(account, 'cdn', [taskId], 0);
      assert.equal(claimed.length, 6);
      const applied = claimed.filter((c) => c.objectPath === 'complete' || (c.objectPath === 'refreshing' && c.node.name === 'st-1'));
      await store.queue.recordOutcomes(T0 + 3, applied.map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const })));
      assert.equal(items.length, 3);
      failedLater = claimed.find((c) => c.objectPath === 'pending' && c.node.name === 'st-2')!;
    });
    let failedLater: { itemId: number; nodeId: number; lease: string };
    after(() => store.close());

    it('cache-tag items keep their type and tag', async () => {
      const rows = await store.tasks.itemsOfTasks(account, 'cdn', [taskId], 0);
      assert.deepEqual(rows.map((r) => [r.objectType, r.objectPath, r.domain]), [
        ['cachetag', 'complete', 'st.example.com'], ['cachetag', 'refreshing', 'st.example.com'], ['cachetag', 'pending', 'st.example.com'],
      ]);
      assert.equal((await query({ objectType: 'cachetag' })).total, 3);
      assert.equal((await query({ objectPath: 'refreshing' })).rows[0]?.objectType, 'cachetag');
    });

    it('a list of statuses matches any of them, by type (per-hour counts) and by domain', async () => {
      for (const extra of [{ objectType: 'cachetag' as const }, { objectType: 'cachetag' as const, domains: ['st.example.com'] }, { taskId }]) {
        const both = await query({ ...extra, status: ['Pending', 'Refreshing'] });
        assert.equal(both.total, 2, JSON.stringify(extra));
        assert.deepEqual(both.rows.map((r) => r.objectPath).sort(), ['pending', 'refreshing']);
        assert.equal((await query({ ...extra, status: ['Refreshing'] })).total, 1);
        assert.equal((await query({ ...extra, status: 'Pending' })).total, 1);
        const second = await query({ ...extra, status: ['Pending', 'Refreshing'], offset: 1, limit: 1 });
        assert.equal(second.total, 2);
        assert.equal(second.rows.length, 1);
      }
    });

    it('attempts say when the node finished, applied or failed; AppliedTime only when applied', async () => {
      await store.queue.recordOutcomes(T0 + 9, [{ ...failedLater, state: 'failed', error: 'no', description: 'Internal Error' }]);
      const rows = await store.tasks.attemptsOfTasks(account, 'cdn', [taskId], 0);
      const at = (path: string, node: string) => {
        const r = rows.find((x) => x.objectPath === path && x.node === node)!;
        return [r.state, r.appliedAt, r.finishedAt];
      };
      assert.deepEqual(at('complete', 'st-2'), ['applied', T0 + 3, T0 + 3]);
      assert.deepEqual(at('pending', 'st-2'), ['failed', null, T0 + 9]);
      assert.deepEqual(at('pending', 'st-1'), ['pending', null, null]);
    });
  });
}
