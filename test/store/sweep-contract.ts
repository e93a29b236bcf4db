import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditRecord, Store } from '../../src/store/port.js';
import { dispatchPending } from './harness.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * Retention of a store bigger than one sweep step (SQLite deletes ~2,000 rows a step,
 * store/sqlite/sweep-steps.ts): every row past retention goes — tasks, items, their attempts on
 * every node, audit records — and nothing newer, with the per-hour counts still equal to the rows
 * and no attempt left without its item.
 */
export function sweepContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}: retention of many rows`, () => {
    let store: Store;
    let acct: number;
    const T0 = Date.UTC(2026, 10, 20, 9, 17, 23);
    const NEW = T0 + 2 * DAY;
    let newTask = '';

    before(async () => {
      store = await open();
      acct = (await store.identity.createAccount({ uid: '1000000000000091', name: 'sweep', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 's.example.com', accountId: acct, product: 'cdn', origin: 'http://o', online: true, nodeGroup: 'sg', createdAt: T0 });
      for (const n of ['s-n1', 's-n2', 's-n3']) await store.fleet.addNode({ name: n, driver: 'simulated', address: `s/${n}`, group: 'sg', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      const submit = async (at: number, tag: string, n: number) => {
        const paths = Array.from({ length: n }, (_, k) => `http://s.example.com/${tag}/${k}`);
        const out = await store.tasks.submit({
          accountId: acct, product: 'cdn', createdAt: at, consume: [],
          tasks: [{ domain: 's.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths }],
        });
        assert.ok(out.ok);
        return out.taskIds[0];
      };
      // Four old tasks of 1,000 items, 12,000 attempts on 3 nodes, over two hours; then a new one.
      for (let t = 0; t < 4; t++) await submit(T0 + t * 30 * 60_000, `old${t}`, 1000);
      newTask = await submit(NEW, 'new', 10);
      while ((await dispatchPending(store, NEW, 1000)) > 0);
      const audit = (at: number, i: number): AuditRecord => ({
        at, requestId: `R-${at}-${i}`, accountId: acct, userName: null, accessKeyId: 'LTAIsweep', sourceIp: '127.0.0.1',
        product: 'cdn', action: 'DescribeRefreshTasks', params: '{}', status: 200, code: null,
      });
      await store.audit.appendAudit(Array.from({ length: 5000 }, (_, i) => audit(T0 + i, i)));
      await store.audit.appendAudit(Array.from({ length: 10 }, (_, i) => audit(NEW + i, i)));
    });
    after(async () => store.close());

    it('deletes every old task, item, attempt and audit record, and keeps the new ones', async () => {
      const q = await store.ops.queueStats();
      assert.equal(q.pending + q.leased, 12_030, JSON.stringify(q));
      const { items, audit } = await store.ops.sweep(T0 + DAY, T0 + DAY, T0 + DAY);
      assert.equal(items, 4000);
      assert.equal(audit, 5000);
      const left = await store.ops.queueStats();
      assert.equal(left.pending + left.leased, 30, `only the new task's attempts are left: ${JSON.stringify(left)}`);
      assert.equal(left.undispatched, 0);
      const rows = await store.tasks.itemsOfTasks(acct, 'cdn', [newTask], T0);
      assert.equal(rows.length, 10);
      assert.equal((await store.tasks.attemptsOfTasks(acct, 'cdn', [newTask], T0)).length, 30);
      const kept = await store.audit.queryAudit({ accountId: acct, limit: 10_000 });
      assert.deepEqual(kept.map((e) => e.at).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => NEW + i));
    });

    it('leaves the counts equal to the rows, in every window', async () => {
      const page = (from: number, to: number) =>
        store.tasks.queryItems({ accountId: acct, product: 'cdn', from, to, offset: 0, limit: 100 });
      for (const [from, to] of [[T0 - HOUR, NEW + HOUR], [T0, T0 + 3 * HOUR], [NEW - 1, NEW + 1], [T0 + HOUR + 7, NEW]]) {
        const { total, rows } = await page(from, to);
        assert.equal(total, rows.length, `window ${from - T0}..${to - T0}`);
      }
      assert.equal((await page(T0 - HOUR, NEW + HOUR)).total, 10);
    });
  });
}
