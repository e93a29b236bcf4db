import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveStatus } from '../../src/domain/progress.js';
import type { AttemptResult, ClaimedAttempt, Store } from '../../src/store/port.js';

/**
 * cancelTasks, on each store. `open` gives a fresh store and a second handle on the same data
 * (another connection on the SQLite file, another pool on the PostgreSQL database): there the
 * cancel runs while a "worker" records outcomes of the same attempts through the other, as a
 * worker in another process would.
 */
export function cancelContract(name: string, open: () => Promise<{ store: Store; second: () => Promise<Store> }>): void {
  describe(`Store contract: ${name}: cancel`, () => {
    let store: Store;
    let other: Store;
    let acct: number;
    let stranger: number;
    const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
    const NODES = ['cx-1', 'cx-2', 'cx-3'];

    before(async () => {
      const opened = await open();
      store = opened.store;
      acct = (await store.identity.createAccount({ uid: '1000000000000091', name: 'cx', createdAt: T0 })).id;
      stranger = (await store.identity.createAccount({ uid: '1000000000000092', name: 'cx-stranger', createdAt: T0 })).id;
      for (const n of NODES) await store.fleet.addNode({ name: n, driver: 'simulated', address: `s/${n}`, group: 'cx', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      await store.domains.addDomain({ name: 'cx.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'cx', createdAt: T0 });
      await store.domains.addDomain({ name: 'cx-empty.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'cx-none', createdAt: T0 });
      other = await opened.second();
    });
    after(async () => {
      await other?.close();
      await store?.close();
    });

    const submit = async (paths: string[], at = T0, domain = 'cx.example.com') => {
      const out = await store.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: at, consume: [],
        tasks: [{ domain, objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: paths.map((p) => `http://${domain}/${p}`) }],
      });
      assert.ok(out.ok);
      return out.taskIds[0];
    };
    const applied = (c: ClaimedAttempt): AttemptResult => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' });
    const byPath = async (task: string) => Object.fromEntries((await store.tasks.itemsOfTasks(acct, 'cdn', [task], 0)).map((r) => [r.objectPath.split('/').pop()!, r]));
    const nodesOf = async (task: string) => {
      const out: Record<string, string[]> = {};
      for (const a of await store.tasks.attemptsOfTasks(acct, 'cdn', [task], 0)) (out[a.objectPath.split('/').pop()!] ??= []).push(`${a.state}:${a.lastError ?? ''}`);
      for (const k of Object.keys(out)) out[k].sort();
      return out;
    };
    /** Counters equal a recount of the task's attempt rows, and every item is terminal. */
    const consistent = async (task: string) => {
      const attempts = await store.tasks.attemptsOfTasks(acct, 'cdn', [task], 0);
      for (const it of await store.tasks.itemsOfTasks(acct, 'cdn', [task], 0)) {
        const mine = attempts.filter((a) => a.itemId === it.itemId);
        assert.deepEqual(it.counts, { total: mine.length, applied: mine.filter((a) => a.state === 'applied').length, failed: mine.filter((a) => a.state === 'failed').length }, it.objectPath);
        assert.ok(['Complete', 'Failed'].includes(deriveStatus(it.counts)), `${it.objectPath} is ${deriveStatus(it.counts)}`);
      }
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [task], 0), 0);
    };

    it('closes pending and leased attempts, dispatches the rest already closed, keeps what was applied', async () => {
      const task = await submit(['a', 'b', 'c', 'd', 'e']);
      // a, b and c dispatched and leased to a worker; d and e not dispatched yet.
      const { claimed } = await store.queue.dispatchAndClaim('cx-w', T0 + 10, 60_000, 3, 100);
      assert.equal(claimed.length, 9);
      const of = (p: string) => claimed.filter((c) => c.objectPath.endsWith(`/${p}`));
      // a applied everywhere (Complete); b applied on one node, backing off on another, still leased on the third;
      // c failed for good on one node (Failed already, its other nodes still working).
      await store.queue.recordOutcomes(T0 + 20, [
        ...of('a').map(applied), applied(of('b')[0]),
        { ...applied(of('b')[1]), state: 'retry', error: 'timeout', nextRunAt: T0 + 60_000 },
        { ...applied(of('c')[0]), state: 'failed', error: 'refused', description: 'Internal Error' },
      ]);

      const [result] = await store.tasks.cancelTasks(acct, 'cdn', [task], 0, T0 + 30);
      assert.deepEqual(result, { taskId: task, items: 5, complete: 1, failed: 4, canceledItems: 4, canceledNodes: 2 + 2 + 3 + 3, appliedNodes: 4 });
      assert.deepEqual(await nodesOf(task), {
        a: ['applied:', 'applied:', 'applied:'],
        b: ['applied:', 'failed:canceled', 'failed:canceled'],
        c: ['failed:canceled', 'failed:canceled', 'failed:refused'],
        d: ['failed:canceled', 'failed:canceled', 'failed:canceled'],
        e: ['failed:canceled', 'failed:canceled', 'failed:canceled'],
      });
      const rows = await byPath(task);
      assert.deepEqual(Object.values(rows).map((r) => [deriveStatus(r.counts), r.description]), [
        ['Complete', ''], ['Failed', 'Canceled'], ['Failed', 'Internal Error'], ['Failed', 'Canceled'], ['Failed', 'Canceled'],
      ]);
      await consistent(task);

      // The worker still holding b and c comes back: applied, retried, failed — none of it counts or reopens anything.
      await store.queue.renewLeases([claimed[0].lease], T0 + 120_000);
      await store.queue.recordOutcomes(T0 + 40, [
        applied(of('b')[2]), { ...applied(of('c')[1]), state: 'retry', error: 'x', nextRunAt: T0 + 41 },
        { ...applied(of('c')[2]), state: 'failed', error: 'late', description: 'Origin Timeout' },
      ]);
      assert.equal(await store.queue.reapLeases(T0 + 10_000_000), 0, 'no lease left to reap');
      assert.deepEqual(await store.queue.claimAttempts('cx-w2', T0 + 10_000_000, 60_000, 100), [], 'nothing left to claim');
      assert.deepEqual((await store.queue.dispatchAndClaim('cx-w2', T0 + 10_000_000, 60_000, 100, 100)).dispatched, 0, 'nothing left to dispatch');
      assert.deepEqual((await nodesOf(task)).b, ['applied:', 'failed:canceled', 'failed:canceled']);
      await consistent(task);

      // A second cancel finds it finished: unchanged, nothing canceled.
      assert.deepEqual(await store.tasks.cancelTasks(acct, 'cdn', [task], 0, T0 + 50), [{ ...result, canceledItems: 0, canceledNodes: 0 }]);
    });

    it('a big cancel frees the event loop between steps, and still closes every attempt once', async () => {
      // 1,000 items on 3 nodes, all dispatched: 3,000 pending attempts, more than one step (SQLite: 2,000).
      const task = await submit(Array.from({ length: 1_000 }, (_, i) => `big-${i}`), T0 + 50);
      for (let left = 1_000; left > 0; left -= 500) await store.queue.dispatchAndClaim('cx-big', T0 + 60, 60_000, 500, 0);
      let turns = 0;
      let spinning = true;
      const spin = () => {
        if (!spinning) return;
        turns++;
        setImmediate(spin);
      };
      setImmediate(spin);
      const [result] = await store.tasks.cancelTasks(acct, 'cdn', [task], 0, T0 + 70);
      spinning = false;
      assert.ok(turns >= 1, 'other work ran while the cancel did');
      assert.deepEqual(result, { taskId: task, items: 1_000, complete: 0, failed: 1_000, canceledItems: 1_000, canceledNodes: 3_000, appliedNodes: 0 });
      await consistent(task);
    });

    it('a cancel of many steps, with applied attempts scattered through it, closes every pending attempt once', async () => {
      // 2,500 items on 3 nodes: 7,500 attempts, every 7th applied before the cancel, so SQLite's
      // steps (2,000 attempts) end in the middle of items and pass over applied rows.
      const task = await submit(Array.from({ length: 2_500 }, (_, i) => `many-${i}`), T0 + 80);
      const claimed: ClaimedAttempt[] = [];
      for (let left = 2_500; left > 0; left -= 1_000) claimed.push(...(await store.queue.dispatchAndClaim('cx-many', T0 + 90, 60_000, 1_000, 0)).claimed);
      claimed.push(...(await store.queue.claimAttempts('cx-many', T0 + 90, 60_000, 10_000)));
      const mine = claimed.filter((c) => c.taskId === task);
      assert.equal(mine.length, 7_500);
      const early = mine.filter((_, i) => i % 7 === 0);
      await store.queue.recordOutcomes(T0 + 95, early.map(applied));
      const [result] = await store.tasks.cancelTasks(acct, 'cdn', [task], 0, T0 + 100);
      assert.deepEqual(result, { taskId: task, items: 2_500, complete: 0, failed: 2_500, canceledItems: 2_500, canceledNodes: 7_500 - early.length, appliedNodes: early.length });
      const states = (await store.tasks.attemptsOfTasks(acct, 'cdn', [task], 0)).map((a) => a.state);
      assert.deepEqual([states.filter((x) => x === 'applied').length, states.filter((x) => x === 'failed').length], [early.length, 7_500 - early.length]);
      await consistent(task);
    });

    it('a finished task is answered unchanged', async () => {
      const task = await submit(['done']);
      const { claimed } = await store.queue.dispatchAndClaim('cx-w', T0 + 100, 60_000, 10, 100);
      await store.queue.recordOutcomes(T0 + 110, claimed.map(applied));
      assert.deepEqual(await store.tasks.cancelTasks(acct, 'cdn', [task], 0, T0 + 120), [
        { taskId: task, items: 1, complete: 1, failed: 0, canceledItems: 0, canceledNodes: 0, appliedNodes: 3 },
      ]);
      assert.deepEqual(await nodesOf(task), { done: ['applied:', 'applied:', 'applied:'] });
    });

    it('an item with no node in scope is Failed, Canceled', async () => {
      const task = await submit(['lonely'], T0 + 200, 'cx-empty.example.com');
      assert.deepEqual(await store.tasks.cancelTasks(acct, 'cdn', [task], 0, T0 + 210), [
        { taskId: task, items: 1, complete: 0, failed: 1, canceledItems: 1, canceledNodes: 0, appliedNodes: 0 },
      ]);
      const [row] = await store.tasks.itemsOfTasks(acct, 'cdn', [task], 0);
      assert.deepEqual([row.counts, row.description], [{ total: 0, applied: 0, failed: 0 }, 'Canceled']);
    });

    it("sees only the account's own tasks of the product, inside the window", async () => {
      const task = await submit(['mine-1', 'mine-2'], T0 + 300);
      assert.deepEqual(await store.tasks.cancelTasks(stranger, 'cdn', [task], 0, T0 + 310), [], 'another account');
      assert.deepEqual(await store.tasks.cancelTasks(acct, 'vod', [task], 0, T0 + 310), [], 'another product');
      assert.deepEqual(await store.tasks.cancelTasks(acct, 'cdn', [task], T0 + 301, T0 + 310), [], 'older than the window');
      assert.deepEqual(await store.tasks.cancelTasks(acct, 'cdn', ['99999999999', '9223372036854775808', 'x'], 0, T0 + 310), [], 'ids that name nothing');
      assert.deepEqual(await store.tasks.cancelTasks(acct, 'cdn', [], 0, T0 + 310), []);
      assert.equal(await store.tasks.countOpenTasks(acct, 'cdn', [task], 0), 1, 'left running');
      assert.deepEqual(await store.tasks.attemptsOfTasks(acct, 'cdn', [task], 0), [], 'not even dispatched');
      const both = await store.tasks.cancelTasks(acct, 'cdn', ['99999999999', task], 0, T0 + 320);
      assert.deepEqual(both.map((t) => [t.taskId, t.canceledItems, t.canceledNodes]), [[task, 2, 6]]);
    });

    it('racing a worker that records outcomes of the same attempts through another connection, each attempt counts once', async () => {
      for (let round = 0; round < 6; round++) {
        const at = T0 + 1_000 + round * 1_000;
        const task = await submit(Array.from({ length: 24 }, (_, i) => `race-${round}-${i}`), at);
        const { claimed } = await other.queue.dispatchAndClaim(`racer-${round}`, at + 1, 60_000, 100, 1_000);
        assert.equal(claimed.length, 72);
        // The worker reports in six batches at once — applied, some retried — while the cancel runs.
        const batches = Array.from({ length: 6 }, (_, b) => claimed.filter((_, i) => i % 6 === b).map((c, i): AttemptResult => (i % 5 === 4 ? { ...applied(c), state: 'retry', error: 'busy', nextRunAt: at + 2 } : applied(c))));
        const [cancel] = await Promise.all([
          // From all outcomes before the cancel (round 5) to none (round 0).
          new Promise((r) => setTimeout(r, round)).then(() => store.tasks.cancelTasks(acct, 'cdn', [task], 0, at + 3)),
          ...batches.map((b, i) => new Promise((r) => setTimeout(r, i)).then(() => other.queue.recordOutcomes(at + 2, b))),
        ]);
        const [result] = cancel;
        const attempts = await store.tasks.attemptsOfTasks(acct, 'cdn', [task], 0);
        assert.equal(attempts.length, 72);
        const appliedRows = attempts.filter((a) => a.state === 'applied').length;
        const canceledRows = attempts.filter((a) => a.state === 'failed' && a.lastError === 'canceled').length;
        assert.equal(appliedRows + canceledRows, 72, `round ${round}: every attempt applied or canceled, none left pending`);
        assert.equal(result.canceledNodes, canceledRows, `round ${round}: the cancel counted what it closed`);
        assert.equal(result.appliedNodes, appliedRows, `round ${round}: and reported what was applied`);
        await consistent(task);
        // The batches once more (a worker retrying its report): nothing changes.
        for (const b of batches) await other.queue.recordOutcomes(at + 4, b);
        assert.equal((await store.tasks.attemptsOfTasks(acct, 'cdn', [task], 0)).filter((a) => a.state === 'applied').length, appliedRows);
        await consistent(task);
      }
    });
  });
}
