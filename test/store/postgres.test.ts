import { dispatchPending } from './harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewTask, SubmitBatch } from '../../src/store/port.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { cancelContract } from './cancel-contract.js';
import { clientTokenContract } from './client-token-contract.js';
import { credentialContract } from './credential-contract.js';
import { storeContract } from './contract.js';
import { submitDispatchContract } from './submit-dispatch-contract.js';
import { startPgCluster } from './pg-cluster.js';
import { statusFilterContract } from './status-filter-contract.js';
import { sweepContract } from './sweep-contract.js';
import { taskIdContract } from './task-id-contract.js';

// One throwaway server for the file; every store opened here gets its own empty database.
const cluster = await startPgCluster();
after(() => cluster.stop());

storeContract('postgres', async () => PostgresStore.open(await cluster.createDatabase()), { listenForWork: true });
statusFilterContract('postgres', async () => PostgresStore.open(await cluster.createDatabase()));
sweepContract('postgres', async () => PostgresStore.open(await cluster.createDatabase()));
taskIdContract('postgres', async () => PostgresStore.open(await cluster.createDatabase()), async (store, next) => {
  await store.raw.unsafe(`ALTER TABLE tasks ALTER COLUMN id RESTART WITH ${BigInt(next)}`);
});
submitDispatchContract('postgres', async () => {
  const url = await cluster.createDatabase();
  return { store: await PostgresStore.open(url), second: () => PostgresStore.open(url) };
});

cancelContract('postgres', async () => {
  const url = await cluster.createDatabase();
  return { store: await PostgresStore.open(url), second: () => PostgresStore.open(url) };
});
credentialContract('postgres', async () => {
  const url = await cluster.createDatabase();
  return { store: await PostgresStore.open(url), second: () => PostgresStore.open(url) };
});
clientTokenContract('postgres', async () => {
  const url = await cluster.createDatabase();
  const store = await PostgresStore.open(url);
  return {
    store,
    // A second pool is what another API process (or a restarted one) has.
    second: () => PostgresStore.open(url),
    breakInserts: async (table) => {
      const admin = await PostgresStore.open(url);
      await admin.raw.unsafe(`
        CREATE OR REPLACE FUNCTION test_break() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'broken for the test'; END $$;
        CREATE TRIGGER test_break_${table} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION test_break();`);
      return async () => {
        await admin.raw.unsafe(`DROP TRIGGER test_break_${table} ON ${table}`);
        await admin.close();
      };
    },
  };
});

describe('PostgresStore across processes (two pools on one database)', () => {
  let url: string;
  let one: PostgresStore;
  let two: PostgresStore;
  let account: number;
  const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
  const task = (paths: string[]): NewTask => ({ domain: 'x.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths });
  const batch = (createdAt: number, paths: string[], extra: Partial<SubmitBatch> = {}): SubmitBatch => ({
    accountId: account, product: 'cdn', createdAt, consume: [], tasks: [task(paths)], ...extra,
  });

  before(async () => {
    url = await cluster.createDatabase();
    // Both open at once against an empty database: the migration lock lets exactly one migrate.
    const opened = await Promise.all([PostgresStore.open(url), PostgresStore.open(url), PostgresStore.open(url)]);
    [one, two] = opened;
    await opened[2].close();
    account = (await one.identity.createAccount({ uid: '1000000000000009', name: 'x', createdAt: T0 })).id;
    await one.domains.addDomain({ name: 'x.example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: T0 });
    for (let i = 0; i < 4; i++) {
      await one.fleet.addNode({ name: `n${i}`, driver: 'simulated', address: `s/${i}`, group: 'default', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
    }
  });
  after(async () => {
    await one?.close();
    await two?.close();
  });

  it('migrations ran once', async () => {
    const rows = await one.raw`SELECT version FROM schema_migrations ORDER BY version`;
    assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((_, i) => i + 1));
  });

  it('a rate limit of 5 per second holds across both', async () => {
    const t = 1_900_000_000_100;
    const calls = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? one : two).guards.takeRate('shared', 5, t + i));
    const waits = await Promise.all(calls);
    assert.equal(waits.filter((w) => w === 0).length, 5);
    assert.ok(waits.every((w) => w === 0 || (w > 800 && w <= 900)));
    assert.equal(await two.guards.takeRate('shared', 5, t + 1000), 0, 'the next second is a new window');
  });

  it('a nonce used by one is refused by the other', async () => {
    const results = await Promise.all([one, two, one, two].map((s) => s.guards.useNonce('LTAIx', 'nonce-1', Date.now() + 60_000)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('concurrent submits from both against one counter never overshoot', async () => {
    const bucket = { bucket: 'day:shared', amount: 2, limit: 21, expiresAt: T0 + 86_400_000 };
    const other = { bucket: 'minute:shared', amount: 1, limit: 1000, expiresAt: T0 + 86_400_000 };
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 === 0 ? one : two).tasks.submit(batch(T0, [`x.example.com/c${i}`], { consume: i % 3 === 0 ? [bucket, other] : [other, bucket] })),
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 10);
    assert.deepEqual(await two.tasks.usage(['day:shared', 'minute:shared']), { 'day:shared': 20, 'minute:shared': 10 });
    const ids = results.flatMap((r) => (r.ok ? r.taskIds : []));
    assert.equal(new Set(ids).size, 10, 'task ids are unique across processes');
    assert.ok(ids.every((id) => /^\d{11}$/.test(id) && BigInt(id) >= 17000000001n));
  });

  it('the preload queue limit holds across both', async () => {
    const pre = (s: PostgresStore, i: number) =>
      s.tasks.submit({ ...batch(T0, [`x.example.com/pre${i}`]), tasks: [{ ...task([`x.example.com/pre${i}`]), objectType: 'preload' }], preloadQueueLimit: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => pre(i % 2 ? one : two, i)));
    assert.equal(results.filter((r) => r.ok).length, 3);
  });

  it('claims from both never hand out the same attempt', async () => {
    assert.ok((await one.tasks.submit(batch(T0 + 10, Array.from({ length: 20 }, (_, i) => `x.example.com/w${i}`)))).ok);
    const dispatched = await Promise.all([dispatchPending(one, T0 + 20, 1000), dispatchPending(two, T0 + 20, 1000), dispatchPending(one, T0 + 20, 1000)]);
    const items = 10 + 3 + 20;
    assert.equal(dispatched.reduce((a, b) => a + b, 0), items, 'each item dispatched once');
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).queue.claimAttempts(`w${i}`, T0 + 30, 60_000, 25)));
    const keys = claims.flat().map((c) => `${c.itemId}/${c.nodeId}`);
    assert.equal(keys.length, items * 4, 'every attempt was claimed');
    assert.equal(new Set(keys).size, keys.length, 'no attempt was claimed twice');
    // Outcomes recorded from both at once; every item ends Complete.
    await Promise.all(claims.map((batch, i) =>
      (i % 2 ? two : one).queue.recordOutcomes(T0 + 40, batch.map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const }))),
    ));
    const all = await two.tasks.queryItems({ accountId: account, product: 'cdn', from: 0, to: Number.MAX_SAFE_INTEGER, offset: 0, limit: 100 });
    assert.equal(all.total, items);
    assert.ok(all.rows.every((r) => r.counts.total === 4 && r.counts.applied === 4), 'counts summed across processes');
    assert.equal((await one.tasks.queryItems({ accountId: account, product: 'cdn', from: 0, to: Number.MAX_SAFE_INTEGER, offset: 0, limit: 1, status: 'Complete' })).total, items);
  });

  it('a submit on one wakes work listeners on the other (listenForWork), not its own', async () => {
    let woken = 0;
    const wokenHere = new Promise<void>((resolve) => {
      const off = two.capabilities.listenForWork!(() => {
        woken++;
        off();
        resolve();
      });
    });
    let local = 0;
    const offLocal = one.capabilities.listenForWork!(() => local++);
    assert.ok((await one.tasks.submit(batch(T0 + 50, ['x.example.com/wake']))).ok);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([wokenHere, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no NOTIFY within 5 s')), 5000)))]);
    clearTimeout(timer);
    assert.equal(woken, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(local, 0, 'its own submits reach its workers through the hand-off, not its own NOTIFY');
    offLocal();
  });
});

describe('PostgresStore cancel against an attempt another transaction holds', () => {
  it('skips the held row, comes back for it once that transaction ends, and closes it', async () => {
    const T0 = Date.UTC(2026, 10, 24, 15, 0, 0);
    const url = await cluster.createDatabase();
    const store = await PostgresStore.open(url);
    const worker = await PostgresStore.open(url);
    try {
      const acct = (await store.identity.createAccount({ uid: '1000000000000097', name: 'hold', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'h.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'h', createdAt: T0 });
      for (const n of ['h1', 'h2']) await store.fleet.addNode({ name: n, driver: 'simulated', address: `s/${n}`, group: 'h', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      const out = await store.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: T0, consume: [],
        tasks: [{ domain: 'h.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: ['h.example.com/a', 'h.example.com/b'] }],
      });
      assert.ok(out.ok);
      const { claimed } = await worker.queue.dispatchAndClaim('holder', T0 + 1, 60_000, 10, 100);
      const held = claimed[0];
      let settled = false;
      let cancel: Promise<unknown> | undefined;
      // Another process's transaction holds one attempt (as a recordOutcomes or a claim does while it runs).
      await worker.raw.begin(async (tx) => {
        await tx`SELECT 1 FROM node_attempts WHERE item_id = ${held.itemId} AND node_id = ${held.nodeId} FOR UPDATE`;
        cancel = store.tasks.cancelTasks(acct, 'cdn', out.taskIds, 0, T0 + 2).finally(() => (settled = true));
        // Meanwhile it closes every other attempt, committed: wait for that (a loaded machine may
        // take longer than any fixed pause), then check the cancel is still waiting for the held one.
        const pending = async () => (await store.raw`SELECT count(*)::int AS n FROM node_attempts WHERE state = 'pending'`)[0].n as number;
        const deadline = Date.now() + 15_000;
        let open = await pending();
        while (open !== 1 && !settled) {
          assert.ok(Date.now() < deadline, `the cancel did not close the other attempts: ${open} still pending`);
          await new Promise((r) => setTimeout(r, 20));
          open = await pending();
        }
        assert.equal(open, 1, 'meanwhile it closed every other attempt, committed');
        assert.equal(settled, false, 'the cancel waits for the held attempt instead of leaving it open');
        // A retry put it back to pending with a later run time.
        await tx`UPDATE node_attempts SET next_run_at = ${T0 + 60_000}, lease_owner = NULL, lease_until = NULL WHERE item_id = ${held.itemId} AND node_id = ${held.nodeId}`;
      });
      const [result] = (await cancel) as { canceledNodes: number; failed: number }[];
      assert.deepEqual([result.canceledNodes, result.failed], [4, 2]);
      const attempts = await store.tasks.attemptsOfTasks(acct, 'cdn', out.taskIds, 0);
      assert.deepEqual(attempts.map((a) => `${a.state}:${a.lastError}`), Array(4).fill('failed:canceled'));
      await worker.queue.recordOutcomes(T0 + 3, claimed.map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const })));
      const items = await store.tasks.itemsOfTasks(acct, 'cdn', out.taskIds, 0);
      assert.deepEqual(items.map((i) => i.counts), [{ total: 2, applied: 0, failed: 2 }, { total: 2, applied: 0, failed: 2 }], 'late outcomes count for nothing');
    } finally {
      await worker.close();
      await store.close();
    }
  });
});

describe('PostgresStore cancel announced to other processes (listenForCancel)', () => {
  it('a cancel through one pool names its tasks to the listeners of the other, once its attempts are closed', async () => {
    const T0 = Date.UTC(2026, 10, 24, 16, 0, 0);
    const url = await cluster.createDatabase();
    const api = await PostgresStore.open(url);
    const worker = await PostgresStore.open(url);
    try {
      const acct = (await api.identity.createAccount({ uid: '1000000000000098', name: 'heard', createdAt: T0 })).id;
      await api.domains.addDomain({ name: 'l.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'l', createdAt: T0 });
      await api.fleet.addNode({ name: 'l1', driver: 'simulated', address: 's/l1', group: 'l', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      const out = await api.tasks.submit({
        accountId: acct, product: 'cdn', createdAt: T0, consume: [],
        tasks: [{ domain: 'l.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: ['l.example.com/a'] }],
      });
      assert.ok(out.ok);
      await worker.queue.dispatchAndClaim('w', T0 + 1, 60_000, 10, 10);
      const heard = new Promise<{ ids: string[]; pending: number }>((resolve) => {
        const off = worker.capabilities.listenForCancel!((ids) => {
          off();
          // By the time the news arrives, nothing of the task is pending any more.
          void worker.raw`SELECT count(*)::int AS n FROM node_attempts WHERE state = 'pending'`.then(([r]) => resolve({ ids, pending: r.n }));
        });
      });
      await api.tasks.cancelTasks(acct, 'cdn', out.taskIds, 0, T0 + 2);
      let timer: NodeJS.Timeout | undefined;
      const got = await Promise.race([heard, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no NOTIFY within 5 s')), 5000)))]);
      clearTimeout(timer);
      assert.deepEqual(got, { ids: out.taskIds, pending: 0 });
    } finally {
      await worker.close();
      await api.close();
    }
  });
});

describe('PostgresStore retention by day partitions', () => {
  let store: PostgresStore;
  let url: string;
  let account: number;
  const DAY = 86_400_000;
  const D0 = Date.UTC(2026, 0, 10); // items_20260110
  const submit = (createdAt: number, path: string) =>
    store.tasks.submit({ accountId: account, product: 'cdn', createdAt, consume: [], tasks: [{ domain: 'r.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: [path] }] });
  const partitions = async () =>
    (await store.raw`SELECT relname FROM pg_class WHERE relname ~ '^(items|node_attempts)_2026011[0-2]$' AND relkind = 'r' ORDER BY relname`).map((r) => r.relname as string);

  before(async () => {
    url = await cluster.createDatabase();
    store = await PostgresStore.open(url);
    account = (await store.identity.createAccount({ uid: '1000000000000010', name: 'r', createdAt: D0 })).id;
    await store.domains.addDomain({ name: 'r.example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: D0 });
    await store.fleet.addNode({ name: 'n', driver: 'simulated', address: 's/1', group: 'default', area: 'domestic', enabled: true, options: {}, createdAt: D0 });
  });
  after(() => store?.close());

  it('drops whole days before the cut, trims the day it cuts through, keeps newer rows', async () => {
    for (const [at, path] of [[D0 + 1000, 'old-1'], [D0 + 2000, 'old-2'], [D0 + DAY + 1000, 'mid-early'], [D0 + DAY + 50_000, 'mid-late'], [D0 + 2 * DAY, 'new']] as const) {
      assert.ok((await submit(at, `r.example.com/${path}`)).ok);
    }
    assert.equal(await dispatchPending(store, D0, 100), 5);
    assert.deepEqual(await partitions(), [
      'items_20260110', 'items_20260111', 'items_20260112',
      'node_attempts_20260110', 'node_attempts_20260111', 'node_attempts_20260112',
    ]);
    const { items } = await store.ops.sweep(D0 + DAY + 10_000, D0 + 3 * DAY);
    assert.equal(items, 3, 'two items of the dropped day, one of the trimmed day');
    assert.deepEqual(await partitions(), ['items_20260111', 'items_20260112', 'node_attempts_20260111', 'node_attempts_20260112']);
    const left = await store.tasks.queryItems({ accountId: account, product: 'cdn', from: 0, to: Number.MAX_SAFE_INTEGER, offset: 0, limit: 10 });
    assert.deepEqual(left.rows.map((r) => r.objectPath), ['r.example.com/new', 'r.example.com/mid-late']);
    const [{ n }] = await store.raw`SELECT count(*) AS n FROM node_attempts`;
    assert.equal(n, 2, 'attempts went with their items');
    const [{ t }] = await store.raw`SELECT count(*) AS t FROM tasks`;
    assert.equal(t, 2);
    // A day dropped by retention is recreated if a (late) submit needs it again.
    assert.ok((await submit(D0 + 5, 'r.example.com/late')).ok);
    assert.ok((await partitions()).includes('items_20260110'));
  });

  it('a submit for a day another process dropped recreates it', async () => {
    const other = await PostgresStore.open(url);
    try {
      const at = D0 + 2 * DAY + 5;
      const sub = (s: PostgresStore, path: string) =>
        s.tasks.submit({ accountId: account, product: 'cdn', createdAt: at, consume: [], tasks: [{ domain: 'r.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: [path] }] });
      assert.ok((await sub(other, 'r.example.com/o1')).ok, 'the other process now knows day 12');
      await store.ops.sweep(D0 + 3 * DAY, D0 + 3 * DAY);
      assert.ok(!(await partitions()).includes('items_20260112'));
      assert.ok((await sub(other, 'r.example.com/o2')).ok, 'retried after "no partition for row"');
      assert.ok((await partitions()).includes('items_20260112'));
    } finally {
      await other.close();
    }
  });
});
