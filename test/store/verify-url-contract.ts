import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClaimedAttempt, NewTask, Store } from '../../src/store/port.js';

/**
 * VerifyUrl samples (domain/verify-url.ts) are stored with their task and reach every attempt a
 * worker is handed — leased at submit, leased by dispatch, or claimed later — in the order given;
 * a task without samples hands out none. The same on every store.
 */
export function verifyUrlContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}: VerifyUrl samples travel with their task`, () => {
    const T0 = Date.UTC(2026, 11, 8, 9, 0, 0);
    let store: Store;
    let acct: number;
    const samples = ['http://vu.example.com/img/a.png', 'vu.example.com/img/b.png?v=2'];
    const task = (paths: string[], extra: Partial<NewTask> = {}): NewTask =>
      ({ domain: 'vu.example.com', objectType: 'directory', force: false, area: null, l2Preload: false, withHeader: null, paths, ...extra });
    const byItem = (claimed: ClaimedAttempt[]) =>
      [...new Map(claimed.map((c) => [c.objectPath, c.verifyUrls])).entries()].sort(([a], [b]) => a.localeCompare(b));

    before(async () => {
      store = await open();
      acct = (await store.identity.createAccount({ uid: '1000000000000095', name: 'vu', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'vu.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'vu', createdAt: T0 });
      for (const n of ['vu-1', 'vu-2']) {
        await store.fleet.addNode({ name: n, driver: 'varnish', address: '127.0.0.1:1', group: 'vu', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      }
    });
    after(() => store.close());

    it('attempts leased at submit carry their task\'s samples', async () => {
      const out = await store.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: T0, consume: [],
        tasks: [task(['vu.example.com/img/'], { verifyUrls: samples })],
        lease: { owner: 'vu-local', leaseMs: 60_000, room: 10 },
      });
      assert.ok(out.ok);
      await out.durable();
      assert.equal(out.leased.length, 2);
      assert.deepEqual(byItem(out.leased), [['vu.example.com/img/', samples]]);
      await store.queue.recordOutcomes(T0 + 1, out.leased.map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const })));
    });

    it('attempts leased by dispatch and claimed later carry them too; a task without samples has none', async () => {
      const at = T0 + 10;
      const out = await store.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: at, consume: [],
        tasks: [task(['vu.example.com/img/', 'vu.example.com/css/'], { verifyUrls: samples }), task(['vu.example.com/js/'], { objectType: 'regex' })],
      });
      assert.ok(out.ok);
      // Room for one item's attempts: the first is leased by dispatch, the others wait for a claim.
      const { dispatched, claimed } = await store.queue.dispatchAndClaim('vu-w', at, 60_000, 10, 2);
      assert.equal(dispatched, 3);
      assert.equal(claimed.length, 2);
      const later = await store.queue.claimAttempts('vu-w', at, 60_000, 10);
      assert.equal(later.length, 4);
      assert.deepEqual(byItem([...claimed, ...later]), [
        ['vu.example.com/css/', samples],
        ['vu.example.com/img/', samples],
        ['vu.example.com/js/', []],
      ]);
    });
  });
}
