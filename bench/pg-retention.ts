/**
 * Retention at scale on PostgreSQL (issue #5 item 4), run by `describe.ts --store postgres
 * --retention` on the filled store, after the API scenarios (it deletes the oldest days):
 *
 * 1. contrast: a plain `DELETE … WHERE created_at < end of day 2` of the same rows the sweep
 *    will remove, timed inside a transaction that is rolled back;
 * 2. the store's own `sweep(before, now)` with `before` at the end of the oldest day partition,
 *    then of the next (a full day): wall time and rows removed;
 * 3. the sweep the server runs every 10 minutes in steady state: `before` 10 minutes into the
 *    next day, which trims those 10 minutes from a full day partition;
 *
 * and, for every sweep, which tables it scanned sequentially (pg_stat_user_tables before and
 * after, with the tables' sizes), to show that none of them is the whole items table.
 */
import postgres from 'postgres';
import { DAY_MS, daySuffix } from '../src/store/postgres/partitions.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';

type Sql = postgres.Sql<{ bigint: number }>;
class Rollback extends Error {}
type ScanStats = Map<string, { seq: number; idx: number; rows: number }>;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

export async function measureRetention(url: string, log: (s: string) => void): Promise<string[]> {
  const bigint: postgres.PostgresType<number> = { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) };
  // One connection, so the statistics this session itself causes can be flushed before a snapshot.
  const sql: Sql = postgres(url, { max: 1, onnotice: () => {}, types: { bigint } });
  const out = ['', 'retention at scale (store.sweep on the full store)'];
  const say = (s: string) => (out.push(`  ${s}`), log(`  ${s}`));
  try {
    const days = await dayPartitions(sql);
    if (days.length < 3) throw new Error(`need 3 day partitions with rows, found ${days.length}`);
    const [{ n: total }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM items`;
    say(`items before: ${fmt(total)} in ${days.length} day partitions (${days.map((d) => `${daySuffix(d.day)}: ${fmt(d.rows)}`).join(', ')})`);

    // 1. The same rows removed by a DELETE: through the partition bound it visits only those
    //    days, but every row is deleted one by one (WAL, dead tuples to vacuum, index entries).
    const cut = (days[1].day + 1) * DAY_MS;
    const rows = days[0].rows + days[1].rows;
    let plain = { ms: 0, items: 0, tasks: 0 };
    try {
      await sql.begin(async (tx) => {
        const t0 = performance.now();
        const items = await tx`DELETE FROM items WHERE created_at < ${cut}`;
        const tasks = await tx`DELETE FROM tasks WHERE created_at < ${cut}`;
        plain = { ms: performance.now() - t0, items: items.count, tasks: tasks.count };
        throw new Rollback(); // undo: the sweeps below remove the same rows their way
      });
    } catch (err) {
      if (!(err instanceof Rollback)) throw err;
    }
    say(`plain DELETE of the 2 oldest days (${fmt(plain.items)} items + ${fmt(plain.tasks)} tasks, rolled back): ${secs(plain.ms)}`);
    if (plain.items !== rows) say(`  (partitions held ${fmt(rows)} items)`);

    // 2. The store's sweep, one old day at a time.
    for (const d of days.slice(0, 2)) {
      const r = await sweep(sql, url, (d.day + 1) * DAY_MS);
      say(`sweep(before = end of ${daySuffix(d.day)}): ${secs(r.ms)}, ${fmt(r.items)} items removed (partition held ${fmt(d.rows)}); ${r.scans}`);
    }

    // 3. Steady state: every 10 minutes the cut-off moves 10 minutes into the oldest kept day.
    const next = days[2];
    const before = next.day * DAY_MS + 10 * 60_000;
    const plan = await sql.unsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN DELETE FROM items WHERE created_at >= ${next.day * DAY_MS} AND created_at < ${before}`);
    say(`10-minute trim plan: ${plan.map((p) => p['QUERY PLAN'].trim()).filter((l) => /Scan|Delete on|Filter|Cond/.test(l)).join(' | ')}`);
    const r = await sweep(sql, url, before);
    say(`sweep(before = ${daySuffix(next.day)} 00:10Z), the 10-minute sweep: ${secs(r.ms)}, ${fmt(r.items)} items removed from a ${fmt(next.rows)}-item day; ${r.scans}`);
    const [{ n: left }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM items`;
    say(`items after: ${fmt(left)}`);
    return out;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Day partitions of items with their row counts, oldest first. */
async function dayPartitions(sql: Sql): Promise<{ day: number; name: string; rows: number }[]> {
  const parts = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'items'::regclass ORDER BY 1`;
  const out = [];
  for (const { name } of parts) {
    const [{ n }] = await sql.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${name}`);
    const m = /^items_(\d{4})(\d{2})(\d{2})$/.exec(name);
    if (m && n > 0) out.push({ day: Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS, name, rows: n });
  }
  return out;
}

/** One sweep through the store's own code, timed, with the sequential scans it caused. */
async function sweep(sql: Sql, url: string, before: number): Promise<{ ms: number; items: number; scans: string }> {
  const s0 = await scanStats(sql);
  const store = await PostgresStore.open(url, { max: 2 });
  let ms: number;
  let items: number;
  try {
    const t0 = performance.now();
    ({ items } = await store.ops.sweep(before, Date.now()));
    ms = performance.now() - t0;
  } finally {
    await store.close(); // its backends exit and so flush their statistics
  }
  await new Promise((r) => setTimeout(r, 1500));
  const s1 = await scanStats(sql);
  const scanned = [...s1].filter(([name, s]) => s.seq > (s0.get(name)?.seq ?? 0)).map(([name, s]) => `${name} (${fmt(s.rows)} rows)`);
  return { ms, items, scans: scanned.length ? `sequential scans of: ${scanned.join(', ')}` : 'no sequential scan' };
}

async function scanStats(sql: Sql): Promise<ScanStats> {
  // This session's own counts (the partition sizes above) reach the shared statistics only when
  // flushed; flush them now, or they would show up as scans of the sweep that follows.
  await sql`SELECT pg_stat_force_next_flush()`;
  await sql`SELECT 1`;
  await sql`SELECT pg_stat_clear_snapshot()`;
  const rows = await sql<{ name: string; seq: number; idx: number | null; rows: number }[]>`
    SELECT relname AS name, seq_scan AS seq, idx_scan AS idx, n_live_tup AS rows FROM pg_stat_user_tables`;
  return new Map(rows.map((r) => [r.name, { seq: r.seq, idx: r.idx ?? 0, rows: r.rows }]));
}
