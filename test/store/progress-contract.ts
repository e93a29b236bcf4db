import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveStatus, type ItemStatus } from '../../src/domain/progress.js';
import type { AttemptResult, ClaimedAttempt, NewTask, Store } from '../../src/store/port.js';

const HOUR = 3_600_000;
const STATUSES: ItemStatus[] = ['Pending', 'Refreshing', 'Complete', 'Failed'];

/**
 * One owner of progress: whatever mix of submits (leased at submit or not; purge-then-warm or not), dispatches, claims,
 * outcomes (applied, failed, retried, lost to a reaped lease or to a cancel), cancels, node removals and retention sweeps
 * runs, every item's counters equal a recount of its attempt rows, and the status the store
 * filters by (and, on SQLite, counts per hour) equals deriveStatus of those counters. Random but
 * seeded, so a failure reproduces; checked after every step.
 */
export function progressContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}: progress`, () => {
    let store: Store;
    let acct: number;
    const T0 = Date.UTC(2026, 10, 21, 8, 41, 5);
    let seed = 20261203;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const taskIds: string[] = [];
    let held: ClaimedAttempt[] = [];
    let nodeNo = 0;

    const addNode = (group: string) =>
      store.fleet.addNode({ name: `p-n${++nodeNo}`, driver: 'simulated', address: `s/${nodeNo}`, group, area: pick(['domestic', 'overseas'] as const), enabled: true, options: {}, createdAt: T0 });

    before(async () => {
      store = await open();
      acct = (await store.identity.createAccount({ uid: '1000000000000088', name: 'progress', createdAt: T0 })).id;
      for (const g of ['pa', 'pb']) {
        await store.domains.addDomain({ name: `${g}.example.com`, accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: g, createdAt: T0 });
        for (let i = 0; i < 3; i++) await addNode(g);
      }
    });
    after(() => store.close());

    async function check(step: string): Promise<void> {
      const items = await store.tasks.itemsOfTasks(acct, 'cdn', taskIds, 0);
      const attempts = await store.tasks.attemptsOfTasks(acct, 'cdn', taskIds, 0);
      const byItem = new Map<string, { rows: number; applied: number; failed: number }>();
      for (const a of attempts) {
        const key = `${a.taskId}/${a.objectPath}`;
        const c = byItem.get(key) ?? { rows: 0, applied: 0, failed: 0 };
        c.rows++;
        if (a.state === 'applied') c.applied++;
        if (a.state === 'failed') c.failed++;
        byItem.set(key, c);
      }
      const expected = new Map<ItemStatus, number>(STATUSES.map((s) => [s, 0]));
      for (const it of items) {
        const c = byItem.get(`${it.taskId}/${it.objectPath}`) ?? { rows: 0, applied: 0, failed: 0 };
        const where = `${step}: ${it.taskId} ${it.objectPath}`;
        assert.equal(it.counts.applied, c.applied, `${where}: applied`);
        assert.equal(it.counts.failed, c.failed, `${where}: failed`);
        if (it.counts.total !== null) assert.equal(it.counts.total, c.rows, `${where}: total`);
        else assert.equal(c.rows, 0, `${where}: attempts of an undispatched item`);
        const status = deriveStatus(it.counts);
        expected.set(status, expected.get(status)! + 1);
      }
      for (const status of STATUSES) {
        // Whole hours and cut hours both (SQLite answers whole hours from its per-hour counts).
        for (const [from, to] of [[0, Number.MAX_SAFE_INTEGER], [T0 - 1, T0 + 7 * HOUR + 1]]) {
          const { total } = await store.tasks.queryItems({ accountId: acct, product: 'cdn', from, to, offset: 0, limit: 0, status });
          assert.equal(total, expected.get(status), `${step}: ${status} items in [${from}, ${to}]`);
        }
      }
    }

    it('counters == a recount of attempt rows, and status == deriveStatus, through every kind of change', async () => {
      let now = T0;
      for (let step = 0; step < 200; step++) {
        now += Math.floor(rand() * 4 * 60_000);
        const op = rand();
        let what: string;
        if (op < 0.3) {
          const g = pick(['pa', 'pb']);
          const preload = rand() < 0.3;
          const task: NewTask = {
            domain: `${g}.example.com`, objectType: preload ? 'preload' : 'file', force: false, area: preload && rand() < 0.5 ? pick(['domestic', 'overseas']) : null,
            l2Preload: false, withHeader: null, paths: Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, i) => `http://${g}.example.com/s${step}/${i}`),
            // Purge-then-warm: a purge applied is no node applied until its preload is.
            preloadAfter: !preload && rand() < 0.4,
          };
          const lease = rand() < 0.5 ? { owner: 'p-local', leaseMs: 60_000, room: Math.floor(rand() * 12) } : undefined;
          const out = await store.tasks.submit({ accountId: acct, product: 'cdn', createdAt: now, consume: [], tasks: [task], lease });
          assert.ok(out.ok);
          taskIds.push(...out.taskIds);
          held.push(...out.leased);
          what = `submit ${task.paths.length} (${out.leased.length} leased)`;
        } else if (op < 0.45) {
          const got = await store.queue.dispatchAndClaim('p-worker', now, 60_000, 1 + Math.floor(rand() * 6), Math.floor(rand() * 20));
          held.push(...got.claimed);
          what = `dispatch ${got.dispatched}`;
        } else if (op < 0.55) {
          const got = await store.queue.claimAttempts('p-worker', now, 60_000, 1 + Math.floor(rand() * 10));
          held.push(...got);
          what = `claim ${got.length}`;
        } else if (op < 0.8) {
          const done = held.filter(() => rand() < 0.6);
          held = held.filter((c) => !done.includes(c));
          const results: AttemptResult[] = done.map((c) => {
            const r = rand();
            const base = { itemId: c.itemId, nodeId: c.nodeId, lease: c.lease };
            return r < 0.6 ? { ...base, state: 'applied' } : r < 0.8 ? { ...base, state: 'failed', error: 'x', description: 'Internal Error' } : { ...base, state: 'retry', error: 'y', nextRunAt: now + 1 };
          });
          await store.queue.recordOutcomes(now, results);
          what = `record ${results.length}`;
        } else if (op < 0.87) {
          // Leases lost: the worker died; its outcomes, if they ever come, no longer count.
          now += 61_000;
          const reaped = await store.queue.reapLeases(now);
          const late = held.filter(() => rand() < 0.3).map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const }));
          await store.queue.recordOutcomes(now, late);
          held = [];
          what = `reap ${reaped}, ${late.length} late outcomes`;
        } else if (op < 0.91) {
          const nodes = await store.fleet.listNodes();
          const victim = pick(nodes);
          await store.fleet.removeNode(victim.name);
          await addNode(victim.group);
          held = held.filter((c) => c.nodeId !== victim.id);
          what = `remove ${victim.name}`;
        } else if (op < 0.97 && taskIds.length > 0) {
          // A cancel: the worker keeps what it holds, and its outcomes for closed attempts must count for nothing.
          const recent = taskIds.slice(-6);
          const chosen = [...new Set([pick(recent), pick(recent)])];
          const done = await store.tasks.cancelTasks(acct, 'cdn', chosen, 0, now);
          const open = await store.tasks.countOpenTasks(acct, 'cdn', chosen, 0);
          assert.equal(open, 0, `step ${step}: canceled tasks are finished`);
          what = `cancel ${done.map((t) => `${t.taskId}: ${t.canceledNodes} nodes`).join(', ')}`;
        } else {
          const cut = T0 + Math.floor(rand() * (now - T0));
          await store.ops.sweep(cut, now);
          what = `sweep before +${Math.round((cut - T0) / 60_000)} min`;
        }
        await check(`step ${step} (${what})`);
      }
    });
  });
}
