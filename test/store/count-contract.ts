import { dispatchPending } from './harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveStatus, type ItemStatus } from '../../src/domain/progress.js';
import type { SubmitType } from '../../src/domain/object-path.js';
import type { ClaimedAttempt, ItemQuery, ItemRow, Store } from '../../src/store/port.js';

const HOUR = 3_600_000;
const TYPES: SubmitType[] = ['file', 'directory', 'preload'];
const STATUSES: ItemStatus[] = ['Pending', 'Refreshing', 'Complete', 'Failed'];

/**
 * TotalCount of queryItems must equal a count of the rows themselves, whatever the adapter does
 * to make it cheap (SQLite keeps per-hour counts, PostgreSQL counts the index): items spread over
 * several hours, moved through every status by the engine's own calls, windows cut mid-hour, and
 * again after retention deleted the oldest. Seeded, so a failure reproduces.
 */
export function countContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}: TotalCount`, () => {
    let store: Store;
    let acct: number;
    const T0 = Date.UTC(2026, 10, 20, 9, 17, 23);
    const domains = ['c1.example.com', 'c2.example.com'];
    let seed = 7;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];

    before(async () => {
      store = await open();
      acct = (await store.identity.createAccount({ uid: '1000000000000077', name: 'counts', createdAt: T0 })).id;
      for (const d of domains) await store.domains.addDomain({ name: d, accountId: acct, product: 'cdn', origin: 'http://o', online: true, nodeGroup: 'cg', createdAt: T0 });
      for (const n of ['c-n1', 'c-n2']) await store.fleet.addNode({ name: n, driver: 'simulated', address: `s/${n}`, group: 'cg', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      // 60 tasks of 1–4 items over 6 hours (in time order, as submits are stamped), then the
      // engine's calls move most of them on.
      const times = Array.from({ length: 60 }, () => T0 + Math.floor(rand() * 6 * HOUR)).sort((x, y) => x - y);
      // The first 20 tasks are leased to a worker at submit (inserted already dispatched).
      const taken: ClaimedAttempt[] = [];
      for (let i = 0; i < times.length; i++) {
        const d = pick(domains);
        const paths = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, k) => `http://${d}/t${i}/${k}`);
        const out = await store.tasks.submit({
          accountId: acct, product: 'cdn', createdAt: times[i], consume: [], lease: i < 20 ? { owner: 'counter', leaseMs: 60_000, room: 1000 } : undefined,
          tasks: [{ domain: d, objectType: pick(TYPES), force: false, area: null, l2Preload: false, withHeader: null, paths }],
        });
        assert.ok(out.ok);
        taken.push(...out.leased);
      }
      await dispatchPending(store, T0, 1000);
      const claimed = [...taken, ...(await store.queue.claimAttempts('counter', T0, 60_000, 1000))];
      assert.ok(taken.length > 20, `${taken.length} attempts taken at submit`);
      const results = claimed.filter(() => rand() < 0.8).map((c) => {
        const r = rand();
        return r < 0.85
          ? { itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const }
          : { itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'failed' as const, error: 'x', description: 'Internal Error' };
      });
      await store.queue.recordOutcomes(T0 + 1000, results);
      // Submitted after the dispatch: stays Pending.
      await store.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: T0 + 6 * HOUR + 5, consume: [],
        tasks: [{ domain: domains[0], objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: ['http://c1.example.com/late'] }],
      });
    });
    after(() => store.close());

    const rowsOf = async (): Promise<ItemRow[]> =>
      (await store.tasks.queryItems({ accountId: acct, product: 'cdn', from: 0, to: Number.MAX_SAFE_INTEGER, offset: 0, limit: 10_000 })).rows;

    /** Every filter combination over windows with edges inside hours and on hour boundaries. */
    async function checkAll(rows: ItemRow[]): Promise<number> {
      const h0 = Math.floor(T0 / HOUR) * HOUR;
      const windows: [number, number][] = [
        [0, Number.MAX_SAFE_INTEGER], [T0 + 1234, T0 + 4 * HOUR + 999], [h0 + HOUR, h0 + 3 * HOUR - 1],
        [h0 + HOUR, h0 + 3 * HOUR], [T0 + 10, T0 + 20], [h0 + 2 * HOUR - 1, h0 + 2 * HOUR + 1], [T0 + 7 * HOUR, T0 + 8 * HOUR],
      ];
      const filters: Partial<ItemQuery>[] = [{}];
      for (const objectType of TYPES) {
        filters.push({ objectType });
        for (const status of STATUSES) filters.push({ objectType, status }, { objectType, status, domains: [domains[1]] });
        filters.push({ objectType, domains: [domains[0]] }, { objectType, domains });
      }
      for (const status of STATUSES) filters.push({ status });
      let nonZero = 0;
      for (const [from, to] of windows) {
        for (const f of filters) {
          const want = rows.filter((r) => r.createdAt >= from && r.createdAt <= to
            && (f.objectType === undefined || r.objectType === f.objectType)
            && (f.status === undefined || deriveStatus(r.counts) === f.status)
            && (f.domains === undefined || f.domains.includes(r.domain))).length;
          const got = await store.tasks.queryItems({ accountId: acct, product: 'cdn', from, to, offset: 0, limit: 1, ...f });
          assert.equal(got.total, want, `${JSON.stringify({ from: from - T0, to: to - T0, ...f })}`);
          if (want > 0) nonZero++;
        }
      }
      return nonZero;
    }

    it('equals a count of the rows, for every filter and window', async () => {
      const rows = await rowsOf();
      assert.ok(rows.length > 100, `${rows.length} items`);
      const seen = new Set(rows.map((r) => deriveStatus(r.counts)));
      assert.deepEqual([...seen].sort(), [...STATUSES].sort(), 'the data holds every status');
      assert.ok((await checkAll(rows)) > 100, 'most combinations match something');
    });

    it('still does after more outcomes and after retention deleted the oldest', async () => {
      await store.queue.reapLeases(T0 + 70_000);
      const rest = await store.queue.claimAttempts('counter2', T0 + 70_000, 60_000, 1000);
      await store.queue.recordOutcomes(T0 + 70_500, rest.map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const })));
      await store.ops.sweep(T0 + 2 * HOUR + 1, T0 + 2 * HOUR + 1);
      const rows = await rowsOf();
      assert.ok(rows.every((r) => r.createdAt >= T0 + 2 * HOUR + 1) && rows.length > 20, `${rows.length} items left`);
      await checkAll(rows);
    });
  });
}
