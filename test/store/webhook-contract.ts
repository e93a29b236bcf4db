import { dispatchPending } from './harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClaimedAttempt, Store } from '../../src/store/port.js';

/**
 * The webhook part of the Store contract (finished tasks, webhooks, the delivery queue),
 * on a store of its own: finishTasks looks at every unfinished task, so the rest of the
 * contract's tasks would get in the way. Run by storeContract for every adapter.
 */
export function webhookContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract, webhooks: ${name}`, () => {
    let store: Store;
    let a: number;
    let b: number;
    const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
    const hookA = { url: 'https://hooks.example.com/a', secretCipher: 'gcm1:hook-a' };

    before(async () => {
      store = await open();
      a = (await store.identity.createAccount({ uid: '2000000000000001', name: 'wa', createdAt: T0 })).id;
      b = (await store.identity.createAccount({ uid: '2000000000000002', name: 'wb', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'wa.example.com', accountId: a, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: T0 });
      await store.domains.addDomain({ name: 'wb.example.com', accountId: b, product: 'vod', origin: null, online: true, nodeGroup: 'default', createdAt: T0 });
      await store.fleet.addNode({ name: 'wn-1', driver: 'simulated', address: 's/1', group: 'default', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
    });
    after(() => store.close());

    const submit = async (accountId: number, domain: string, paths: string[], at = T0) => {
      const out = await store.tasks.submit({
        accountId, product: accountId === a ? 'cdn' : 'vod', createdAt: at, consume: [],
        tasks: [{ domain, objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths }],
      });
      assert.ok(out.ok);
      return out.taskIds[0];
    };
    /** Dispatch and claim everything; record what `decide` says for each claimed attempt. */
    const run = async (at: number, decide: (c: ClaimedAttempt) => 'applied' | 'failed' | 'retry') => {
      await dispatchPending(store, at, 1000);
      const claimed = await store.queue.claimAttempts('w', at, 60_000, 1000);
      await store.queue.recordOutcomes(at, claimed.map((c) => {
        const state = decide(c);
        const base = { itemId: c.itemId, nodeId: c.nodeId, lease: c.lease };
        if (state === 'applied') return { ...base, state };
        if (state === 'failed') return { ...base, state, error: 'HTTP 503', description: 'Internal Error' };
        return { ...base, state, error: 'ECONNREFUSED', nextRunAt: at + 60_000 };
      }));
    };

    it('webhooks are set, replaced and removed per account', async () => {
      assert.equal(await store.outbox.getWebhook(a), undefined);
      assert.equal(await store.outbox.setWebhook(a, { url: 'http://old.example.com/', secretCipher: 'gcm1:old' }, T0), true);
      assert.equal(await store.outbox.setWebhook(a, hookA, T0 + 1), true, 'replaced');
      assert.deepEqual(await store.outbox.getWebhook(a), { accountId: a, ...hookA, createdAt: T0 + 1 });
      assert.equal(await store.outbox.getWebhook(b), undefined, 'per account');
      assert.equal(await store.outbox.setWebhook(b, null, T0), false, 'nothing to remove');
    });

    let t1: string;
    let t2: string;
    let t3: string;
    it('finishTasks finishes a task once all its items are terminal, once, queueing one delivery if the account has a webhook', async () => {
      t1 = await submit(a, 'wa.example.com', ['wa.example.com/1', 'wa.example.com/2']);
      t2 = await submit(b, 'wb.example.com', ['wb.example.com/1']);
      t3 = await submit(a, 'wa.example.com', ['wa.example.com/3']);
      assert.deepEqual(await store.outbox.finishTasks(T0 + 10, 100), { finished: [] }, 'Pending (undispatched) tasks are not finished');
      await run(T0 + 20, (c) => (c.taskId === t3 ? 'retry' : c.objectPath.endsWith('/2') ? 'failed' : 'applied'));
      const scan = await store.outbox.finishTasks(T0 + 30, 100);
      assert.deepEqual(scan, { finished: [{ taskId: t1, accountId: a }, { taskId: t2, accountId: b }] }, 'a failed item is terminal too; t3 still runs');
      assert.deepEqual(await store.outbox.finishTasks(T0 + 40, 100), { finished: [] }, 'finished once');
      const [d] = await store.outbox.listDeliveries(a, 10);
      assert.deepEqual({ ...d, id: 0 }, {
        id: 0, accountId: a, taskId: t1, product: 'cdn', event: 'TaskFinished', createdAt: T0 + 30, attempts: 0, nextRunAt: T0 + 30,
        state: 'pending', lastError: null, deliveredAt: null,
      });
      assert.equal((await store.outbox.listDeliveries(a, 10)).length, 1);
      assert.deepEqual(await store.outbox.listDeliveries(b, 10), [], 'no webhook, no delivery');
    });

    it('finishTasks scans at most `limit` unfinished tasks and continues after `next`', async () => {
      const t4 = await submit(a, 'wa.example.com', ['wa.example.com/4']);
      await run(T0 + 50, () => 'applied');
      // t3 still waits for its retry; t4 is done. With limit 1, t3 alone is looked at first.
      const first = await store.outbox.finishTasks(T0 + 60, 1);
      assert.deepEqual(first, { finished: [], next: t3 });
      const second = await store.outbox.finishTasks(T0 + 60, 1, first.next);
      assert.deepEqual(second, { finished: [{ taskId: t4, accountId: a }], next: t4 });
      assert.deepEqual(await store.outbox.finishTasks(T0 + 60, 1, second.next), { finished: [] }, 'the end: start again');
    });

    it('two finishTasks at once finish each task once', async () => {
      const ids = [];
      for (let i = 0; i < 12; i++) ids.push(await submit(i % 2 ? a : b, i % 2 ? 'wa.example.com' : 'wb.example.com', [`w${i}.example.com/x`]));
      await run(T0 + 70, (c) => (c.taskId === t3 ? 'retry' : 'applied'));
      const scans = await Promise.all([store.outbox.finishTasks(T0 + 80, 100), store.outbox.finishTasks(T0 + 80, 100), store.outbox.finishTasks(T0 + 80, 100)]);
      const finished = scans.flatMap((s) => s.finished.map((f) => f.taskId)).sort();
      assert.deepEqual(finished, [...ids].sort());
      assert.equal((await store.outbox.listDeliveries(a, 100)).length, 2 + 6, 'one delivery per finished task of account a');
    });

    it('deliveries are leased; an expired lease is claimable again; only the current lease counts', async () => {
      const due = await store.outbox.claimDeliveries('n1', T0 + 100, 1000, 1);
      assert.equal(due.length, 1);
      const [c] = due;
      assert.deepEqual({ ...c, id: 0, lease: '' }, {
        id: 0, lease: '', accountId: a, taskId: t1, product: 'cdn', event: 'TaskFinished', attempts: 0,
        taskCreatedAt: T0, finishedAt: T0 + 30, webhook: hookA,
      }, 'oldest due first, with the task times and the webhook');
      assert.match(c.lease, /^n1\//);
      const others = await store.outbox.claimDeliveries('n2', T0 + 200, 100_000, 100);
      assert.equal(others.length, 7, 'the rest');
      assert.ok(!others.some((o) => o.id === c.id), 'a leased delivery is not handed out twice');
      assert.deepEqual(await store.outbox.claimDeliveries('n2', T0 + 300, 1000, 100), []);
      const again = await store.outbox.claimDeliveries('n2', T0 + 1100, 1000, 1);
      assert.deepEqual(again.map((x) => x.id), [c.id], 'its lease ran out: due again');
      assert.equal(await store.outbox.recordDelivery(T0 + 1150, c.id, c.lease, { state: 'delivered' }), false, 'the stale lease does not count');
      assert.equal(await store.outbox.recordDelivery(T0 + 1200, c.id, again[0].lease, { state: 'retry', error: 'HTTP 500', nextRunAt: T0 + 5000 }), true);
      const row = (await store.outbox.listDeliveries(a, 100)).find((x) => x.id === c.id)!;
      assert.deepEqual([row.state, row.attempts, row.lastError, row.nextRunAt], ['pending', 1, 'HTTP 500', T0 + 5000]);
      assert.deepEqual(await store.outbox.claimDeliveries('n3', T0 + 4000, 1000, 100), [], 'a retry waits for its time');
      const third = await store.outbox.claimDeliveries('n3', T0 + 5000, 1000, 100);
      assert.deepEqual(third.map((x) => [x.id, x.attempts]), [[c.id, 1]]);
      assert.equal(await store.outbox.recordDelivery(T0 + 5100, c.id, third[0].lease, { state: 'failed', error: 'gave up' }), true);
      assert.equal(await store.outbox.recordDelivery(T0 + 5100, c.id, third[0].lease, { state: 'delivered' }), false, 'recorded once');
      const ok = others[0];
      assert.equal(await store.outbox.recordDelivery(T0 + 5200, ok.id, ok.lease, { state: 'delivered' }), true);
      const list = await store.outbox.listDeliveries(a, 100);
      assert.deepEqual(list.map((x) => x.id), [...list.map((x) => x.id)].sort((x, y) => y - x), 'newest first');
      assert.equal((await store.outbox.listDeliveries(a, 2)).length, 2);
      const failed = list.find((x) => x.id === c.id)!;
      assert.deepEqual([failed.state, failed.attempts, failed.lastError, failed.deliveredAt], ['failed', 2, 'gave up', null]);
      const delivered = list.find((x) => x.id === ok.id)!;
      assert.deepEqual([delivered.state, delivered.attempts, delivered.lastError, delivered.deliveredAt], ['delivered', 1, null, T0 + 5200]);
    });

    it('a claimed delivery of a removed webhook says so; sweep drops old deliveries', async () => {
      assert.equal(await store.outbox.setWebhook(a, null, T0), true);
      const late = await store.outbox.claimDeliveries('n4', T0 + 200_000, 1000, 1);
      assert.equal(late.length, 1);
      assert.equal(late[0].webhook, null);
      await store.ops.sweep(T0 + 31, T0 + 300_000);
      assert.ok((await store.outbox.listDeliveries(a, 100)).every((x) => x.createdAt >= T0 + 31), 'the delivery created at T0+30 is gone');
      assert.ok((await store.outbox.listDeliveries(a, 100)).length > 0);
      await store.ops.sweep(T0 + 86_400_000, T0 + 86_400_000);
      assert.deepEqual(await store.outbox.listDeliveries(a, 100), []);
    });
  });
}
