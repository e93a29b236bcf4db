import { dispatchPending } from './harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AttemptResult, ClaimedAttempt, Store } from '../../src/store/port.js';

/**
 * The execution queue in batches, as the worker drives it: many items and nodes per claim, many
 * outcomes of one item in one recordOutcomes call, and the WaitForTasks probe (countOpenTasks).
 */
export function queueContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}: queue batches`, () => {
    let store: Store;
    let acct: number;
    let other: number;
    const T0 = Date.UTC(2026, 10, 21, 8, 0, 0);
    const NODES = ['qb-1', 'qb-2', 'qb-3'];

    before(async () => {
      store = await open();
      acct = (await store.identity.createAccount({ uid: '1000000000000081', name: 'qb', createdAt: T0 })).id;
      other = (await store.identity.createAccount({ uid: '1000000000000082', name: 'qb-other', createdAt: T0 })).id;
      for (const n of NODES) await store.fleet.addNode({ name: n, driver: 'simulated', address: `s/${n}`, group: 'qb', area: 'domestic', enabled: true, options: { n }, createdAt: T0 });
      await store.domains.addDomain({ name: 'qb.example.com', accountId: acct, product: 'cdn', origin: 'http://qb-origin', online: true, nodeGroup: 'qb', createdAt: T0 });
      await store.domains.addDomain({ name: 'qb-other.example.com', accountId: other, product: 'cdn', origin: null, online: true, nodeGroup: 'qb', createdAt: T0 });
    });
    after(() => store.close());

    const submit = async (accountId: number, domain: string, paths: string[], at = T0) => {
      const out = await store.tasks.submit({
        accountId, product: 'cdn', createdAt: at, consume: [],
        tasks: [{ domain, objectType: 'file', force: true, area: null, l2Preload: false, withHeader: '{"x-a":["1"]}', paths }],
      });
      assert.ok(out.ok);
      return out.taskIds[0];
    };
    const result = (c: ClaimedAttempt, state: 'applied' | 'failed', description = 'Internal Error'): AttemptResult =>
      state === 'applied' ? { itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state } : { itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state, error: `e-${c.node.name}`, description };

    let task1 = '';
    let task2 = '';
    let claimed: ClaimedAttempt[] = [];

    it('one claim carries every item and node, each with its own job', async () => {
      task1 = await submit(acct, 'qb.example.com', Array.from({ length: 40 }, (_, i) => `http://qb.example.com/f/${i}.js`));
      task2 = await submit(acct, 'qb.example.com', ['http://qb.example.com/g.css', 'http://qb.example.com/h.css']);
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [task1, task2], 0), 2, 'Pending items are open');
      assert.equal(await dispatchPending(store, T0, 1000), 42);
      claimed = await store.queue.claimAttempts('qb-w', T0 + 10, 60_000, 1000);
      assert.equal(claimed.length, 42 * NODES.length);
      assert.equal(new Set(claimed.map((c) => `${c.itemId}/${c.nodeId}`)).size, claimed.length, 'each attempt once');
      const paths = new Map<number, string>();
      for (const c of claimed) {
        assert.equal(paths.get(c.itemId) ?? c.objectPath, c.objectPath, 'one path per item');
        paths.set(c.itemId, c.objectPath);
        assert.deepEqual([c.objectType, c.force, c.withHeader, c.origin, c.attempts, c.domain], ['file', true, '{"x-a":["1"]}', 'http://qb-origin', 0, 'qb.example.com']);
        assert.deepEqual(c.node.options, { n: c.node.name });
        assert.equal(c.taskId, c.objectPath.includes('/f/') ? task1 : task2);
      }
      assert.equal(new Set(claimed.map((c) => c.lease)).size, 1, 'one lease token per claim');
    });

    it('records many outcomes of one item in one batch, counting each attempt once', async () => {
      const [g, h] = ['g.css', 'h.css'].map((p) => claimed.filter((c) => c.objectPath.endsWith(p)));
      const f = claimed.filter((c) => c.taskId === task1);
      // task2: g applied on every node; h applied on one, failed on two (the first failure's description stays).
      await store.queue.recordOutcomes(T0 + 20, [
        ...g.map((c) => result(c, 'applied')),
        result(h[0], 'applied'), result(h[1], 'failed', 'Origin Timeout'), result(h[2], 'failed', 'Origin Return StatusCode 5XX'),
        // a stale lease's outcome in the same batch is ignored
        { ...result(f[0], 'applied'), lease: 'someone-else' },
      ]);
      const rows = await store.tasks.itemsOfTasks(acct, 'cdn', [task2], 0);
      const byPath = Object.fromEntries(rows.map((r) => [r.objectPath.split('/').pop(), r]));
      assert.deepEqual(byPath['g.css'].counts, { total: 3, applied: 3, failed: 0 });
      assert.deepEqual([byPath['h.css'].counts, byPath['h.css'].description], [{ total: 3, applied: 1, failed: 2 }, 'Origin Timeout']);
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [task2], 0), 0, 'Complete and Failed rows are done');
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [task1, task2], 0), 1);
      // Twice the same outcomes: the second batch finds no attempt leased under the token any more.
      await store.queue.recordOutcomes(T0 + 21, g.map((c) => result(c, 'applied')));
      assert.deepEqual((await store.tasks.itemsOfTasks(acct, 'cdn', [task2], 0)).find((r) => r.objectPath.endsWith('g.css'))!.counts, { total: 3, applied: 3, failed: 0 });
      assert.equal((await store.tasks.attemptsOfTasks(acct, 'cdn', [task1], 0)).filter((a) => a.state === 'applied').length, 0);
    });

    it('countOpenTasks: Refreshing until the last node, only the account’s tasks, inside the window', async () => {
      const f = claimed.filter((c) => c.taskId === task1);
      await store.queue.recordOutcomes(T0 + 30, f.slice(0, -1).map((c) => result(c, 'applied')));
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [task1], 0), 1, 'one node short');
      await store.queue.recordOutcomes(T0 + 31, [result(f[f.length - 1], 'applied')]);
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [task1, task2], 0), 0);
      const theirs = await submit(other, 'qb-other.example.com', ['http://qb-other.example.com/x']);
      assert.equal(await store.tasks.countOpenTasks(other, 'cdn', [theirs], 0), 1);
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [theirs], 0), 0, 'another account’s task is not seen');
      assert.equal(await store.tasks.countOpenTasks(other, 'vod', [theirs], 0), 0, 'nor another product’s');
      assert.equal(await store.tasks.countOpenTasks(other, 'cdn', [theirs], T0 + 1), 0, 'nor one older than the window');
      assert.equal(await store.tasks.countOpenTasks(other, 'cdn', ['nope', '99999999999', theirs], 0), 1, 'unknown ids count as nothing');
      assert.equal(await store.tasks.countOpenTasks(other, 'cdn', [], 0), 0);
    });

    it('dispatchAndClaim leases the attempts of whole items up to the room; the rest wait for any claim', async () => {
      // Earlier tests' leftovers out of the way: dispatched and leased elsewhere.
      await dispatchPending(store, T0 + 40, 1000);
      await store.queue.claimAttempts('qb-drain', T0 + 40, 60_000, 1000);
      const task = await submit(acct, 'qb.example.com', ['a', 'b', 'c', 'd', 'e'].map((p) => `http://qb.example.com/d/${p}.js`), T0 + 50);

      // Three items, room for 8 attempts: two whole items (3 nodes each) are leased, the third is not split.
      const first = await store.queue.dispatchAndClaim('qb-w2', T0 + 60, 60_000, 3, 8);
      assert.equal(first.dispatched, 3);
      assert.equal(first.claimed.length, 6);
      assert.equal(new Set(first.claimed.map((c) => c.lease)).size, 1, 'one lease token per call');
      assert.ok(first.claimed[0].lease.startsWith('qb-w2/'));
      assert.deepEqual([...new Set(first.claimed.map((c) => c.objectPath.split('/').pop()))].sort(), ['a.js', 'b.js']);
      for (const c of first.claimed) {
        assert.deepEqual([c.taskId, c.objectType, c.force, c.withHeader, c.origin, c.attempts, c.domain], [task, 'file', true, '{"x-a":["1"]}', 'http://qb-origin', 0, 'qb.example.com']);
        assert.deepEqual(c.node.options, { n: c.node.name });
      }
      const third = await store.queue.claimAttempts('qb-w3', T0 + 61, 60_000, 100);
      assert.deepEqual(third.map((c) => c.objectPath.split('/').pop()), ['c.js', 'c.js', 'c.js'], 'the item that did not fit is anyone’s');
      assert.equal((await store.queue.claimAttempts('qb-w3', T0 + 62, 60_000, 100)).length, 0, 'leased attempts are not claimed again');

      // No room: the rest is dispatched unleased.
      const rest = await store.queue.dispatchAndClaim('qb-w2', T0 + 70, 60_000, 100, 0);
      assert.deepEqual([rest.dispatched, rest.claimed.length], [2, 0]);
      assert.equal((await store.queue.claimAttempts('qb-w4', T0 + 71, 60_000, 100)).length, 6);
      assert.deepEqual(await store.queue.dispatchAndClaim('qb-w2', T0 + 80, 60_000, 100, 100), { dispatched: 0, claimed: [] });

      // Outcomes count under the dispatch's lease, and only under it.
      await store.queue.recordOutcomes(T0 + 90, [...first.claimed.map((c) => result(c, 'applied')), { ...result(third[0], 'applied'), lease: first.claimed[0].lease }]);
      const rows = Object.fromEntries((await store.tasks.itemsOfTasks(acct, 'cdn', [task], 0)).map((r) => [r.objectPath.split('/').pop(), r.counts]));
      assert.deepEqual(rows['a.js'], { total: 3, applied: 3, failed: 0 });
      assert.deepEqual(rows['b.js'], { total: 3, applied: 3, failed: 0 });
      assert.deepEqual(rows['c.js'], { total: 3, applied: 0, failed: 0 }, 'another lease’s attempt is not counted');
    });
  });
}
