import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AttemptResult, ClaimedAttempt, NodeAttemptRow, Store } from '../../src/store/port.js';

/**
 * Purge-then-warm (RefreshObjectCaches PreloadAfter): the phase rules of a node attempt, on both
 * stores. Each node runs the purge, and only once that purge is recorded applied does the same
 * attempt become its preload — due at once, unleased, with its own attempt count. The item
 * counts a node as applied only after both; a purge that fails for good never preloads.
 */
export function phaseContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}: purge-then-warm phases`, () => {
    let store: Store;
    let acct: number;
    const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
    const NODES = ['ph-1', 'ph-2', 'ph-3'];
    const DOMAIN = 'ph.example.com';

    before(async () => {
      store = await open();
      acct = (await store.identity.createAccount({ uid: '1000000000000091', name: 'ph', createdAt: T0 })).id;
      for (const n of NODES) await store.fleet.addNode({ name: n, driver: 'simulated', address: `s/${n}`, group: 'ph', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      await store.domains.addDomain({ name: DOMAIN, accountId: acct, product: 'cdn', origin: 'http://ph-origin', online: true, nodeGroup: 'ph', createdAt: T0 });
    });
    after(() => store.close());

    const submit = async (paths: string[], at: number, opts: { preloadAfter?: boolean; lease?: number } = {}) => {
      const out = await store.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: at, consume: [],
        tasks: [{ domain: DOMAIN, objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: paths.map((p) => `http://${DOMAIN}/${p}`), preloadAfter: opts.preloadAfter }],
        lease: opts.lease === undefined ? undefined : { owner: 'ph-local', leaseMs: 60_000, room: opts.lease },
      });
      assert.ok(out.ok);
      return { taskId: out.taskIds[0], leased: out.leased };
    };
    /** Drain whatever earlier tests left due, so each test claims only its own attempts. */
    const drain = async (at: number) => {
      await store.queue.dispatchAndClaim('ph-drain', at, 3_600_000, 1000, 100_000);
      await store.queue.claimAttempts('ph-drain', at, 3_600_000, 100_000);
    };
    const ok = (c: ClaimedAttempt, verifiedBy?: 'probe' | 'ack'): AttemptResult => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied', ...(verifiedBy ? { verifiedBy } : {}) });
    const fail = (c: ClaimedAttempt, description: 'Internal Error' | 'Origin Return StatusCode 5XX' = 'Internal Error'): AttemptResult =>
      ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'failed', error: `no ${c.node.name}`, description });
    const retry = (c: ClaimedAttempt, at: number): AttemptResult => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'retry', error: 'later', nextRunAt: at });
    const nodesOf = (taskId: string) => store.tasks.attemptsOfTasks(acct, 'cdn', [taskId], 0);
    const item = async (taskId: string) => (await store.tasks.itemsOfTasks(acct, 'cdn', [taskId], 0))[0];
    const view = (a: NodeAttemptRow) => [a.node, a.phase, a.state, a.attempts, a.purgedAt, a.appliedAt];

    it('new attempts of a purge-then-warm item start in the purge phase, by dispatch and at submit; others have no phase', async () => {
      const at = T0;
      await drain(at);
      const plain = await submit(['plain.js'], at);
      const warm = await submit(['warm.js'], at, { preloadAfter: true });
      const { claimed } = await store.queue.dispatchAndClaim('ph-w', at, 60_000, 10, 100);
      assert.equal(claimed.length, 6, 'both items in one dispatch, one scope each');
      for (const c of claimed) assert.equal(c.phase, c.taskId === warm.taskId ? 'purge' : undefined, `${c.objectPath} on ${c.node.name}`);
      assert.deepEqual((await nodesOf(plain.taskId)).map((a) => a.phase), [null, null, null]);
      assert.deepEqual((await nodesOf(warm.taskId)).map((a) => [a.phase, a.purgedAt]), [['purge', null], ['purge', null], ['purge', null]]);

      const atSubmit = await submit(['leased.js'], at + 1, { preloadAfter: true, lease: 3 });
      assert.equal(atSubmit.leased.length, 3, 'leased to the local worker at submit');
      assert.deepEqual(atSubmit.leased.map((c) => c.phase), ['purge', 'purge', 'purge']);
      assert.equal(atSubmit.leased[0].objectType, 'file', 'the purge is the item’s own refresh');
    });

    it('a purge recorded applied makes the preload due at once, unleased, attempts afresh; the node is not applied yet', async () => {
      const at = T0 + 60_000;
      await drain(at);
      const { taskId } = await submit(['a.js'], at, { preloadAfter: true });
      const { claimed } = await store.queue.dispatchAndClaim('ph-w', at, 60_000, 10, 100);
      // One node's purge is retried first: its count goes to 1, then back to 0 for the preload.
      await store.queue.recordOutcomes(at + 1, [retry(claimed[0], at + 5)]);
      const again = await store.queue.claimAttempts('ph-w', at + 5, 60_000, 10);
      assert.deepEqual(again.map((c) => [c.phase, c.attempts]), [['purge', 1]]);
      // A purge proved by the node's probe: the row says so until its preload's outcome replaces it.
      await store.queue.recordOutcomes(at + 10, [ok(again[0], 'probe'), ok(claimed[1])]);
      assert.deepEqual((await nodesOf(taskId)).map((a) => [a.node, a.phase, a.verifiedBy]), [['ph-1', 'preload', 'probe'], ['ph-2', 'preload', null], ['ph-3', 'purge', null]]);

      const rows = await nodesOf(taskId);
      assert.deepEqual(rows.map(view), [
        ['ph-1', 'preload', 'pending', 0, at + 10, null],
        ['ph-2', 'preload', 'pending', 0, at + 10, null],
        ['ph-3', 'purge', 'pending', 0, null, null],
      ]);
      assert.deepEqual((await item(taskId)).counts, { total: 3, applied: 0, failed: 0 }, 'a purge alone confirms nothing');
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [taskId], 0), 1);

      assert.equal((await store.queue.claimAttempts('ph-early', at + 9, 60_000, 10)).length, 0, 'due at the purge’s record time, not before');
      const preloads = await store.queue.claimAttempts('ph-w', at + 10, 60_000, 10);
      assert.deepEqual(preloads.map((c) => [c.node.name, c.phase, c.attempts, c.objectPath]).sort(), [
        ['ph-1', 'preload', 0, `http://${DOMAIN}/a.js`], ['ph-2', 'preload', 0, `http://${DOMAIN}/a.js`],
      ]);
      assert.equal((await store.queue.claimAttempts('ph-w', at + 11, 60_000, 10)).length, 0, 'leased preloads are not claimed twice');
    });

    it('the preload recorded applied applies the node; the item is Complete only when every node has both', async () => {
      const at = T0 + 120_000;
      await drain(at);
      const { taskId } = await submit(['b.js'], at, { preloadAfter: true });
      const { claimed } = await store.queue.dispatchAndClaim('ph-w', at, 60_000, 10, 100);
      await store.queue.recordOutcomes(at + 1, claimed.map((c) => ok(c)));
      const preloads = await store.queue.claimAttempts('ph-w', at + 1, 60_000, 10);
      assert.equal(preloads.length, 3);
      await store.queue.recordOutcomes(at + 2, preloads.slice(0, 2).map((c) => ok(c)));
      assert.deepEqual((await item(taskId)).counts, { total: 3, applied: 2, failed: 0 });
      assert.equal((await store.tasks.queryItems({ accountId: acct, product: 'cdn', from: at, to: at, taskId, offset: 0, limit: 1, status: 'Refreshing' })).total, 1);
      await store.queue.recordOutcomes(at + 3, [ok(preloads[2], 'ack')]);
      assert.deepEqual((await item(taskId)).counts, { total: 3, applied: 3, failed: 0 });
      assert.deepEqual((await nodesOf(taskId)).map((a) => a.verifiedBy).sort(), ['ack', null, null], 'the preload’s verification replaces the purge’s');
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [taskId], 0), 0, 'Complete');
      const rows = await nodesOf(taskId);
      assert.deepEqual(rows.map(view).map((r) => r.slice(1)).sort(), [
        ['preload', 'applied', 1, at + 1, at + 2], ['preload', 'applied', 1, at + 1, at + 2], ['preload', 'applied', 1, at + 1, at + 3],
      ]);
      assert.equal((await store.queue.claimAttempts('ph-w', at + 10, 60_000, 10)).length, 0, 'nothing left to run');
    });

    it('a purge that fails for good fails the node and never preloads; the item is Failed', async () => {
      const at = T0 + 180_000;
      await drain(at);
      const { taskId } = await submit(['c.js'], at, { preloadAfter: true });
      const { claimed } = await store.queue.dispatchAndClaim('ph-w', at, 60_000, 10, 100);
      await store.queue.recordOutcomes(at + 1, [fail(claimed[0]), ok(claimed[1]), ok(claimed[2])]);
      const rows = await nodesOf(taskId);
      assert.deepEqual(rows.map((a) => [a.phase, a.state, a.purgedAt, a.lastError]), [
        ['purge', 'failed', null, `no ${claimed[0].node.name}`], ['preload', 'pending', at + 1, null], ['preload', 'pending', at + 1, null],
      ]);
      assert.deepEqual([(await item(taskId)).counts, (await item(taskId)).description], [{ total: 3, applied: 0, failed: 1 }, 'Internal Error']);
      const preloads = await store.queue.claimAttempts('ph-w', at + 1, 60_000, 10);
      assert.deepEqual(preloads.map((c) => c.nodeId).sort(), [claimed[1].nodeId, claimed[2].nodeId].sort(), 'only the nodes that purged preload');
    });

    it('a failed preload retries as a preload and may fail for good; a stale purge outcome changes nothing; a reaped preload comes back as a preload', async () => {
      const at = T0 + 240_000;
      await drain(at);
      const { taskId } = await submit(['d.js'], at, { preloadAfter: true });
      const { claimed } = await store.queue.dispatchAndClaim('ph-w', at, 60_000, 10, 100);
      // An outcome under a lease the attempt no longer has does not move it to its preload.
      await store.queue.recordOutcomes(at + 1, [{ ...ok(claimed[0]), lease: 'ph-someone-else/x' }]);
      assert.deepEqual((await nodesOf(taskId)).map((a) => a.phase), ['purge', 'purge', 'purge']);
      await store.queue.recordOutcomes(at + 2, claimed.map((c) => ok(c)));
      const preloads = await store.queue.claimAttempts('ph-w', at + 2, 60_000, 10);
      // ph-1: retried, then failed for good; ph-2: its worker dies (lease reaped); ph-3: applied.
      const [p1, p2, p3] = ['ph-1', 'ph-2', 'ph-3'].map((n) => preloads.find((c) => c.node.name === n)!);
      await store.queue.recordOutcomes(at + 3, [retry(p1, at + 4), ok(p3)]);
      const p1b = await store.queue.claimAttempts('ph-w', at + 4, 60_000, 10);
      assert.deepEqual(p1b.map((c) => [c.node.name, c.phase, c.attempts]), [['ph-1', 'preload', 1]]);
      await store.queue.recordOutcomes(at + 5, [fail(p1b[0], 'Origin Return StatusCode 5XX')]);
      // (Earlier tests' leases run out too; only this task's attempts are looked at.)
      assert.ok((await store.queue.reapLeases(at + 2 + 60_001)) >= 1, 'ph-2’s preload lease ran out');
      const p2b = (await store.queue.claimAttempts('ph-w2', at + 2 + 60_001, 60_000, 100)).filter((c) => c.taskId === taskId);
      assert.deepEqual(p2b.map((c) => [c.node.name, c.phase, c.attempts]), [['ph-2', 'preload', 0]], 'never purged again');
      await store.queue.recordOutcomes(at + 2 + 60_002, [ok(p2)]); // the dead worker's late outcome
      assert.deepEqual((await item(taskId)).counts, { total: 3, applied: 1, failed: 1 });
      await store.queue.recordOutcomes(at + 2 + 60_003, [ok(p2b[0])]);
      const rows = await nodesOf(taskId);
      assert.deepEqual(rows.map((a) => [a.node, a.phase, a.state, a.attempts, a.purgedAt]), [
        ['ph-1', 'preload', 'failed', 2, at + 2], ['ph-2', 'preload', 'applied', 1, at + 2], ['ph-3', 'preload', 'applied', 1, at + 2],
      ]);
      assert.deepEqual([(await item(taskId)).counts, (await item(taskId)).description], [{ total: 3, applied: 2, failed: 1 }, 'Origin Return StatusCode 5XX']);
    });
  });
}
