import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClientTokenClaim, Store, SubmitBatch } from '../../src/store/port.js';

/** What the ClientToken contract needs of an adapter beyond a store. */
export interface TokenHarness {
  store: Store;
  /** Another handle on the same data: a second connection to the file, a second pool on the database. */
  second: () => Promise<Store>;
  /** Make every insert into `table` fail until the returned function is called. */
  breakInserts: (table: 'tasks' | 'client_tokens') => Promise<() => Promise<void>>;
}

/**
 * Idempotent submits in the store (SubmitBatch.clientToken): a used token answers its tasks
 * without writing or charging anything, a different fingerprint is refused, a refused submit
 * records nothing, the token and its tasks commit together, and all of it holds for submits
 * racing through two handles and after the store is opened again.
 */
export function clientTokenContract(name: string, open: () => Promise<TokenHarness>): void {
  describe(`Store contract: ${name}: client tokens`, () => {
    let h: TokenHarness;
    let store: Store;
    let acct: number;
    let other: number;
    const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);
    const DAY = 86_400_000;

    before(async () => {
      h = await open();
      store = h.store;
      acct = (await store.identity.createAccount({ uid: '1000000000000095', name: 'tok', createdAt: T0 })).id;
      other = (await store.identity.createAccount({ uid: '1000000000000096', name: 'tok-other', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'tok.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'tok', createdAt: T0 });
      await store.fleet.addNode({ name: 'tok-1', driver: 'simulated', address: 's/tok', group: 'tok', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
    });
    after(() => store.close());

    const claim = (token: string, fingerprint = 'fp-1', at = T0): ClientTokenClaim => ({ token, fingerprint, expiresAt: at + DAY });
    const batch = (accountId: number, paths: string[], extra: Partial<SubmitBatch> = {}): SubmitBatch => ({
      accountId, product: 'cdn', createdAt: T0, tasks: [{ domain: 'tok.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths }],
      consume: [{ bucket: `day:tok:${accountId}`, amount: paths.length, limit: 1000, expiresAt: T0 + DAY }], ...extra,
    });
    const items = async (accountId = acct, s = store) => (await s.tasks.queryItems({ accountId, product: 'cdn', from: 0, to: Number.MAX_SAFE_INTEGER, offset: 0, limit: 0 })).total;
    const used = async (accountId = acct) => (await store.tasks.usage([`day:tok:${accountId}`]))[`day:tok:${accountId}`];

    it("answers a used token with the first call's tasks, writing and charging nothing", async () => {
      const first = await store.tasks.submit(batch(acct, ['tok.example.com/a', 'tok.example.com/b'], { clientToken: claim('t-1') }));
      assert.ok(first.ok && !first.replayed);
      const [n, u] = [await items(), await used()];
      assert.deepEqual([n, u], [2, 2]);
      const again = await store.tasks.submit(batch(acct, ['tok.example.com/a', 'tok.example.com/b'], { clientToken: claim('t-1'), lease: { owner: 'tok-w', leaseMs: 60_000, room: 100 } }));
      assert.ok(again.ok);
      assert.deepEqual([again.taskIds, again.replayed, again.leased, again.waiting], [first.taskIds, true, [], 0]);
      await again.durable();
      assert.deepEqual([await items(), await used()], [n, u], 'no item written, no quota charged');
    });

    it('refuses the same token with another fingerprint, writing nothing', async () => {
      const out = await store.tasks.submit(batch(acct, ['tok.example.com/other'], { clientToken: claim('t-1', 'fp-2') }));
      assert.deepEqual(out, { ok: false, tokenMismatch: true });
      assert.deepEqual([await items(), await used()], [2, 2]);
    });

    it('keeps tokens per account', async () => {
      const out = await store.tasks.submit(batch(other, ['tok.example.com/theirs'], { clientToken: claim('t-1') }));
      assert.ok(out.ok && !out.replayed);
      assert.equal(await items(other), 1);
    });

    it('records nothing for a refused submit: the token is free for the retry', async () => {
      const tooMuch = batch(acct, ['tok.example.com/q1', 'tok.example.com/q2'], { clientToken: claim('t-quota'), consume: [{ bucket: 'day:tok-small', amount: 2, limit: 1, expiresAt: T0 + DAY }] });
      assert.deepEqual(await store.tasks.submit(tooMuch), { ok: false, exceeded: 'day:tok-small' });
      const queue = batch(acct, ['tok.example.com/q1'], { clientToken: claim('t-quota'), preloadQueueLimit: 0 });
      queue.tasks[0].objectType = 'preload';
      assert.deepEqual(await store.tasks.submit(queue), { ok: false, queueFull: true });
      const retry = await store.tasks.submit(batch(acct, ['tok.example.com/q1', 'tok.example.com/q2'], { clientToken: claim('t-quota') }));
      assert.ok(retry.ok && !retry.replayed);
    });

    it('writes the token and the tasks in one transaction: neither without the other', async () => {
      const before = [await items(), await used()];
      let restore = await h.breakInserts('client_tokens');
      await assert.rejects(store.tasks.submit(batch(acct, ['tok.example.com/tx'], { clientToken: claim('t-tx') })));
      await restore();
      assert.deepEqual([await items(), await used()], before, 'no task without its token');
      restore = await h.breakInserts('tasks');
      await assert.rejects(store.tasks.submit(batch(acct, ['tok.example.com/tx'], { clientToken: claim('t-tx', 'fp-tx') })));
      await restore();
      const out = await store.tasks.submit(batch(acct, ['tok.example.com/tx'], { clientToken: claim('t-tx', 'fp-other') }));
      assert.ok(out.ok && !out.replayed, 'no token without its tasks: the token was still free');
    });

    it('is free again once expired, and retention deletes expired tokens', async () => {
      const first = await store.tasks.submit(batch(acct, ['tok.example.com/e1'], { clientToken: claim('t-exp') }));
      assert.ok(first.ok);
      const late = await store.tasks.submit({ ...batch(acct, ['tok.example.com/e1'], { clientToken: claim('t-exp', 'fp-late', T0 + DAY) }), createdAt: T0 + DAY });
      assert.ok(late.ok && !late.replayed, 'at its expiry the token is new again');
      assert.notDeepEqual(late.taskIds, first.taskIds);
      const replay = await store.tasks.submit({ ...batch(acct, ['x'], { clientToken: claim('t-exp', 'fp-late', T0 + DAY) }), createdAt: T0 + DAY + 1 });
      assert.ok(replay.ok && replay.replayed && replay.taskIds[0] === late.taskIds[0], 'the new call replaced the old record');

      const kept = await store.tasks.submit(batch(acct, ['tok.example.com/k'], { clientToken: claim('t-kept', 'fp-k', T0 + 10 * DAY) }));
      assert.ok(kept.ok);
      await store.ops.sweep(0, T0 + 3 * DAY);
      // Asked again at a time the swept token would still have answered: it is gone, the kept one is not.
      const gone = await store.tasks.submit({ ...batch(acct, ['tok.example.com/e2'], { clientToken: claim('t-exp', 'fp-late', T0 + DAY) }), createdAt: T0 + DAY + 2 });
      assert.ok(gone.ok && !gone.replayed, 'swept');
      const still = await store.tasks.submit(batch(acct, ['tok.example.com/k'], { clientToken: claim('t-kept', 'fp-k', T0 + 10 * DAY) }));
      assert.ok(still.ok && still.replayed, 'an unexpired token survives the sweep');
    });

    it('one set of tasks when submits with one token race through two handles', async () => {
      const second = await h.second();
      try {
        const before = await items();
        const same = await Promise.all(Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? second : store).tasks.submit(batch(acct, ['tok.example.com/r1', 'tok.example.com/r2'], { clientToken: claim('t-race') }))));
        assert.ok(same.every((o) => o.ok));
        const ids = new Set(same.map((o) => (o.ok ? o.taskIds.join(',') : '')));
        assert.equal(ids.size, 1, 'every call answered the same task');
        assert.equal(same.filter((o) => o.ok && !o.replayed).length, 1, 'exactly one call wrote it');
        assert.equal(await items(), before + 2);

        // Half ask for one thing, half for another, with one token: the first writer wins, the others are refused.
        const mixed = await Promise.all(Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? second : store).tasks.submit(batch(acct, [`tok.example.com/m${i % 3 === 0 ? 'x' : 'y'}`], { clientToken: claim('t-mixed', i % 3 === 0 ? 'fp-x' : 'fp-y') }))));
        const winners = mixed.filter((o) => o.ok);
        assert.equal(new Set(winners.map((o) => (o.ok ? o.taskIds.join(',') : ''))).size, 1);
        assert.equal(winners.filter((o) => o.ok && !o.replayed).length, 1);
        assert.equal(mixed.filter((o) => !o.ok && 'tokenMismatch' in o).length, 12 - winners.length);
        assert.ok(winners.length === 4 || winners.length === 8, `the winner's fingerprint was sent ${winners.length} times`);
        assert.equal(await items(), before + 3);
      } finally {
        await second.close();
      }
    });

    it('still answers after the store is closed and opened again', async () => {
      const first = await store.tasks.submit(batch(acct, ['tok.example.com/restart'], { clientToken: claim('t-restart') }));
      assert.ok(first.ok);
      await store.close();
      store = await h.second();
      const again = await store.tasks.submit(batch(acct, ['tok.example.com/restart'], { clientToken: claim('t-restart') }));
      assert.ok(again.ok && again.replayed);
      assert.deepEqual(again.taskIds, first.taskIds);
    });
  });
}
