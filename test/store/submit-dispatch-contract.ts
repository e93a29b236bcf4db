import { dispatchPending } from './harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveStatus } from '../../src/domain/progress.js';
import type { ClaimedAttempt, NewTask, Store } from '../../src/store/port.js';
import { HandOff, type LocalTaker } from '../../src/worker/hand-off.js';

/**
 * Dispatch at submit (SubmitBatch.lease, through the hand-off of worker/hand-off.ts): a worker
 * of the submitting process gets the new items that fit in its room, leased to it by the
 * submit's own transaction; everything else takes the usual dispatch, nothing overtakes older
 * items, and the store reads the same either way. `open` also gives a second store on the same
 * data, to see what was committed when take() ran: on both stores, everything (the hand-off
 * comes after the commit).
 */
export function submitDispatchContract(name: string, open: () => Promise<{ store: Store; second: () => Promise<Store> }>): void {
  describe(`Store contract: ${name}: dispatch at submit to a local worker`, () => {
    const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
    let store: Store;
    let acct: number;
    let room = 0;
    let taken: ClaimedAttempt[][] = [];
    /** What another connection saw of the task when take() ran. */
    let seenAtTake: Promise<number>[] = [];
    let failTake = false;
    let reader: Store;
    let detach: () => void;
    const handOff = new HandOff();

    const task = (domain: string, paths: string[], extra: Partial<NewTask> = {}): NewTask =>
      ({ domain, objectType: 'file', force: true, area: null, l2Preload: false, withHeader: null, paths, ...extra });
    const submit = (at: number, t: NewTask, consume: { bucket: string; amount: number; limit: number; expiresAt: number }[] = []) =>
      handOff.submit((lease) => store.tasks.submit({ accountId: acct, product: 'cdn', createdAt: at, consume, tasks: [t], lease }));
    const rows = async (taskId: string) => store.tasks.itemsOfTasks(acct, 'cdn', [taskId], 0);
    const statusCount = async (status: string) =>
      (await store.tasks.queryItems({ accountId: acct, product: 'cdn', from: T0 - 3_600_000, to: T0 + 3 * 3_600_000 - 1, offset: 0, limit: 1, status: status as 'Pending' })).total;
    /** TotalCount of the window by status (the per-hour counts on SQLite). */
    const byStatus = async () => ({ Pending: await statusCount('Pending'), Refreshing: await statusCount('Refreshing'), Complete: await statusCount('Complete') });
    const applied = (x: ClaimedAttempt) => ({ itemId: x.itemId, nodeId: x.nodeId, lease: x.lease, state: 'applied' as const });

    before(async () => {
      const opened = await open();
      store = opened.store;
      acct = (await store.identity.createAccount({ uid: '1000000000000091', name: 'sd', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'a.example.com', accountId: acct, product: 'cdn', origin: 'http://origin.test', online: true, nodeGroup: 'g', createdAt: T0 });
      await store.domains.addDomain({ name: 'empty.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'nobody', createdAt: T0 });
      await store.fleet.addNode({ name: 'n1', driver: 'simulated', address: 's/1', group: 'g', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      await store.fleet.addNode({ name: 'n2', driver: 'simulated', address: 's/2', group: 'g', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      await store.fleet.addNode({ name: 'n3', driver: 'simulated', address: 's/3', group: 'g', area: 'overseas', enabled: true, options: {}, createdAt: T0 });
      reader = await opened.second();
      const taker: LocalTaker = {
        // As a worker's: what it was handed counts against its room (the cases reset `taken`).
      owner: 'local', leaseMs: 30_000, room: () => room - taken.flat().length,
        wake: () => {},
        take: (c) => {
          if (failTake) throw new Error('executor gone');
          taken.push(c);
          // What another connection sees when take() runs.
          seenAtTake.push(reader.tasks.itemsOfTasks(acct, 'cdn', [c[0].taskId], 0).then((r) => r.length));
        },
      };
      detach = handOff.attach(taker);
    });
    after(async () => {
      await reader?.close();
      await store?.close();
    });

    it('leases whole items that fit, inserted with their node count, and hands them to the worker', async () => {
      room = 7; // three nodes: two items fit
      taken = [];
      seenAtTake = [];
      const out = await submit(T0, task('a.example.com', ['http://a.example.com/1', 'http://a.example.com/2', 'http://a.example.com/3?x=1']));
      assert.ok(out.ok);
      assert.equal(taken.length, 1);
      const c = taken[0];
      assert.equal(c.length, 6);
      assert.deepEqual([...new Set(c.map((x) => x.objectPath))], ['http://a.example.com/1', 'http://a.example.com/2']);
      assert.deepEqual(c.map((x) => x.node.name), ['n1', 'n2', 'n3', 'n1', 'n2', 'n3']);
      for (const x of c) {
        assert.equal(x.taskId, out.taskIds[0]);
        assert.equal(x.attempts, 0);
        assert.equal(x.origin, 'http://origin.test');
        assert.equal(x.force, true);
        assert.match(x.lease, /^local\//);
      }
      assert.equal(new Set(c.map((x) => x.lease)).size, 1, 'one lease token per submit');
      assert.deepEqual(await Promise.all(seenAtTake), [3]);
      const r = await rows(out.taskIds[0]);
      // Pending all the same: no node has confirmed any of them yet.
      assert.deepEqual(r.map((x) => deriveStatus(x.counts)), ['Pending', 'Pending', 'Pending']);
      assert.deepEqual(r.map((x) => x.counts.total), [3, 3, null]);
      // The leased attempts are nobody else's to claim; the third item is dispatched as usual.
      assert.deepEqual(await store.queue.claimAttempts('other', T0 + 1, 30_000, 100), []);
      const rest = await store.queue.dispatchAndClaim('other', T0 + 1, 30_000, 100, 100);
      assert.equal(rest.dispatched, 1);
      assert.equal(rest.claimed.length, 3);
      // Outcomes under the submit's lease count like any others.
      await store.queue.recordOutcomes(T0 + 2, [...c, ...rest.claimed].map(applied));
      assert.deepEqual((await rows(out.taskIds[0])).map((x) => deriveStatus(x.counts)), ['Complete', 'Complete', 'Complete']);
      assert.deepEqual(await byStatus(), { Pending: 0, Refreshing: 0, Complete: 3 });
    });

    it('keeps the per-hour counts in step (TotalCount by status)', async () => {
      room = 100;
      taken = [];
      const out = await submit(T0 + 60_000, task('a.example.com', ['http://a.example.com/c1', 'http://a.example.com/c2']));
      assert.ok(out.ok);
      assert.equal(taken[0].length, 6);
      assert.deepEqual(await byStatus(), { Pending: 2, Refreshing: 0, Complete: 3 });
      // One node of the first item confirms: that item is Refreshing (1 of 3), the other still Pending.
      await store.queue.recordOutcomes(T0 + 60_001, [applied(taken[0][0])]);
      assert.deepEqual((await rows(out.taskIds[0])).map((x) => [deriveStatus(x.counts), x.counts.applied]), [['Refreshing', 1], ['Pending', 0]]);
      assert.deepEqual(await byStatus(), { Pending: 1, Refreshing: 1, Complete: 3 });
      await store.queue.recordOutcomes(T0 + 60_002, taken[0].slice(1).map(applied));
      assert.deepEqual(await byStatus(), { Pending: 0, Refreshing: 0, Complete: 5 });
    });

    it('a preload with an Area goes to that area’s nodes only', async () => {
      room = 100;
      taken = [];
      const out = await submit(T0 + 120_000, task('a.example.com', ['http://a.example.com/p'], { objectType: 'preload', area: 'overseas' }));
      assert.ok(out.ok);
      assert.deepEqual(taken[0].map((x) => x.node.name), ['n3']);
      assert.equal((await rows(out.taskIds[0]))[0].counts.total, 1);
    });

    it('takes nothing without room, for a group without nodes, or when a submit is refused', async () => {
      taken = [];
      room = 2; // not one whole item on three nodes
      const small = await submit(T0 + 180_000, task('a.example.com', ['http://a.example.com/s']));
      assert.ok(small.ok);
      assert.deepEqual(taken, []);
      assert.equal((await store.queue.dispatchAndClaim('other', T0 + 180_001, 30_000, 100, 100)).dispatched, 1);
      room = 100;
      const empty = await submit(T0 + 180_002, task('empty.example.com', ['http://empty.example.com/e']));
      assert.ok(empty.ok);
      assert.deepEqual(taken, []);
      // The usual dispatch gives it its reason.
      await dispatchPending(store, T0 + 180_003, 100);
      const [e] = await rows(empty.taskIds[0]);
      assert.equal(deriveStatus(e.counts), 'Failed');
      assert.equal(e.description, 'Internal Error');
      const bucket = { bucket: 'day:sd', amount: 1, limit: 0, expiresAt: T0 + 86_400_000 };
      const refused = await submit(T0 + 180_004, task('a.example.com', ['http://a.example.com/q']), [bucket]);
      assert.equal(refused.ok, false);
      assert.deepEqual(taken, []);
    });

    it('new items do not overtake older ones still waiting for dispatch', async () => {
      room = 0;
      taken = [];
      const older = await submit(T0 + 240_000, task('a.example.com', ['http://a.example.com/old']));
      room = 100;
      const newer = await submit(T0 + 240_001, task('a.example.com', ['http://a.example.com/new']));
      assert.ok(older.ok && newer.ok);
      // SQLite leaves both to the worker's dispatch; PostgreSQL's submit dispatches the older first.
      const paths = taken.flat().map((x) => x.objectPath);
      assert.ok(paths.length === 0 || paths[0] === 'http://a.example.com/old', paths.join(', '));
      const d = await store.queue.dispatchAndClaim('other', T0 + 240_002, 30_000, 100, 100);
      const order = [...new Set([...paths, ...d.claimed.map((x) => x.objectPath)])];
      assert.deepEqual(order, ['http://a.example.com/old', 'http://a.example.com/new']);
    });

    it('takes whole items of a big task up to its room; the rest waits for dispatch', async () => {
      room = 100;
      taken = [];
      seenAtTake = [];
      const paths = Array.from({ length: 40 }, (_, i) => `http://a.example.com/big/${i}`);
      const out = await submit(T0 + 270_000, task('a.example.com', paths));
      assert.ok(out.ok);
      // Room for 33 items on three nodes, handed over at once after the commit.
      assert.deepEqual(taken.map((c) => c.length), [99]);
      assert.equal(taken.flat().length, 99);
      assert.deepEqual([...new Set(taken.flat().map((x) => x.objectPath))], paths.slice(0, 33));
      assert.ok((await Promise.all(seenAtTake)).every((n) => n === 40));
      const r = await rows(out.taskIds[0]);
      assert.equal(r.filter((x) => x.counts.total === 3).length, 33);
      assert.equal(r.filter((x) => x.counts.total === null).length, 7);
      const rest = await store.queue.dispatchAndClaim('other', T0 + 270_001, 30_000, 100, 1000);
      await store.queue.recordOutcomes(T0 + 270_002, [...taken.flat(), ...rest.claimed].map(applied));
      assert.ok((await rows(out.taskIds[0])).every((x) => deriveStatus(x.counts) === 'Complete'));
    });

    it('a worker that cannot take them does not fail the submit: the attempts run once their lease ends', async () => {
      room = 100;
      taken = [];
      failTake = true;
      const out = await submit(T0 + 280_000, task('a.example.com', ['http://a.example.com/lost']));
      failTake = false;
      assert.ok(out.ok);
      assert.equal((await rows(out.taskIds[0]))[0].counts.total, 3);
      assert.deepEqual(await store.queue.claimAttempts('other', T0 + 280_001, 30_000, 100), [], 'still leased');
      // (Earlier cases left leases of their own unrecorded: they run out too.)
      assert.ok((await store.queue.reapLeases(T0 + 280_000 + 30_001)) >= 3);
      const again = (await store.queue.claimAttempts('other', T0 + 310_002, 30_000, 100)).filter((x) => x.taskId === out.taskIds[0]);
      assert.deepEqual(again.map((x) => x.node.name), ['n1', 'n2', 'n3']);
      await store.queue.recordOutcomes(T0 + 310_003, again.map(applied));
    });

    it('new items do not overtake attempts due without a worker', async () => {
      room = 0;
      taken = [];
      const older = await submit(T0 + 285_000, task('a.example.com', ['http://a.example.com/due']));
      assert.ok(older.ok);
      // Dispatched but not leased (as a big task's overflow or a retry would be): due now.
      await dispatchPending(store, T0 + 285_001, 100);
      room = 100;
      const newer = await submit(T0 + 285_002, task('a.example.com', ['http://a.example.com/after-due']));
      assert.ok(newer.ok);
      assert.deepEqual(taken, []);
      const claimed = await store.queue.claimAttempts('other', T0 + 285_003, 30_000, 100);
      assert.deepEqual([...new Set(claimed.map((x) => x.objectPath))], ['http://a.example.com/due']);
      const rest = await store.queue.dispatchAndClaim('other', T0 + 285_004, 30_000, 100, 100);
      assert.deepEqual([...new Set(rest.claimed.map((x) => x.objectPath))], ['http://a.example.com/after-due']);
      await store.queue.recordOutcomes(T0 + 285_005, [...claimed, ...rest.claimed].map(applied));
    });

    it('in a batch of several tasks, a later task does not go ahead of an earlier one left waiting', async () => {
      room = 4; // one item of a.example.com (three nodes); one more would fit on n3 alone
      taken = [];
      const out = await handOff.submit((lease) => store.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: T0 + 286_000, consume: [], lease,
        tasks: [
          task('a.example.com', ['http://a.example.com/m1', 'http://a.example.com/m2']),
          task('a.example.com', ['http://a.example.com/p1'], { objectType: 'preload', area: 'overseas' }),
        ],
      }));
      assert.ok(out.ok);
      assert.deepEqual([...new Set(taken.flat().map((x) => x.objectPath))], ['http://a.example.com/m1']);
      const rest = await store.queue.dispatchAndClaim('other', T0 + 286_001, 30_000, 100, 100);
      assert.deepEqual([...new Set(rest.claimed.map((x) => x.objectPath))], ['http://a.example.com/m2', 'http://a.example.com/p1']);
      await store.queue.recordOutcomes(T0 + 286_002, [...taken.flat(), ...rest.claimed].map(applied));
    });

    it('submits at the same time share the worker’s room instead of each taking all of it', async () => {
      room = 6; // two items on three nodes, whoever gets there first
      taken = [];
      const outs = await Promise.all(['x', 'y'].map((k, i) =>
        submit(T0 + 287_000 + i, task('a.example.com', [`http://a.example.com/${k}1`, `http://a.example.com/${k}2`]))));
      assert.ok(outs.every((o) => o.ok));
      assert.equal(taken.flat().length, 6, JSON.stringify(taken.map((c) => c.length)));
      const rest = await store.queue.dispatchAndClaim('other', T0 + 287_002, 30_000, 100, 100);
      assert.equal(rest.claimed.length, 6);
      await store.queue.recordOutcomes(T0 + 287_003, [...taken.flat(), ...rest.claimed].map(applied));
    });

    it('a detached worker takes nothing', async () => {
      detach();
      room = 100;
      taken = [];
      const out = await submit(T0 + 300_000, task('a.example.com', ['http://a.example.com/d']));
      assert.ok(out.ok);
      assert.deepEqual(taken, []);
      assert.equal(deriveStatus((await rows(out.taskIds[0]))[0].counts), 'Pending');
    });
  });
}
