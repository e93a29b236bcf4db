import type { Db, Sql } from './rows.js';
import { sqlState } from './rows.js';

export const DAY_MS = 86_400_000;
/** Advisory lock key serializing partition DDL between processes (see migrations.ts for another). */
const PARTITION_LOCK = 0x72_66_73_68_02;
/** How long retention waits for the parent lock before leaving a day for the next sweep. */
const DROP_LOCK_TIMEOUT = '5s';

/**
 * Day partitions of `items` and `node_attempts` (migrations.ts). Partition `items_YYYYMMDD` holds
 * the items created on that UTC day, `node_attempts_YYYYMMDD` their attempts; both are created
 * together and dropped together, so retention is a DROP TABLE per day instead of a DELETE that
 * visits every old row and its index entries.
 *
 * Creating: each partition is created as a plain table and then ATTACHed. CREATE TABLE ...
 * PARTITION OF would take an ACCESS EXCLUSIVE lock on the parent until the submit commits,
 * stalling every reader, and could deadlock with a worker transaction holding the other parent;
 * ATTACH PARTITION takes only SHARE UPDATE EXCLUSIVE, which does not conflict with reads or
 * writes. An advisory transaction lock makes concurrent submits for a new day create it once.
 */
export class DayPartitions {
  /** Days known to have both partitions. A day dropped by another process's sweep is older than
   * the retention window, so submits (which are stamped now) never need it again. */
  private readonly known = new Set<number>();

  /** Inside a submit's transaction: make sure the partitions of these creation times exist. */
  async ensure(tx: Db, createdAts: number[]): Promise<number[]> {
    const days = [...new Set(createdAts.map(dayOf))].filter((d) => !this.known.has(d));
    if (days.length === 0) return [];
    let missing = await missingDays(tx, days);
    if (missing.length > 0) {
      await tx`SELECT pg_advisory_xact_lock(${PARTITION_LOCK}::bigint)`;
      // Checked again in a new statement: its snapshot sees partitions another holder committed.
      missing = await missingDays(tx, missing);
      for (const day of missing) await createDay(tx, day);
    }
    return days;
  }

  /** After the submit committed: its days exist for good (until retention). */
  remember(days: number[]): void {
    for (const d of days) this.known.add(d);
  }

  /** A day turned out to be gone (dropped by another process): look it up again next time. */
  forget(createdAt: number): void {
    this.known.delete(dayOf(createdAt));
  }

  /** Create today's and tomorrow's partitions ahead of the first submit (on open and on sweep). */
  async prepare(sql: Sql, now: number): Promise<void> {
    const days = await sql.begin((tx) => this.ensure(tx, [now, now + DAY_MS]));
    this.remember(days);
  }

  /**
   * Drop every day that ends at or before `before`; delete the rows of the one day it cuts
   * through. Returns the number of items removed. Each DROP runs in its own short transaction,
   * so retention never holds one parent's lock while waiting for the other's.
   */
  async dropBefore(sql: Sql, before: number): Promise<number> {
    let removed = 0;
    const rows = await sql<{ name: string }[]>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'items'::regclass`;
    const days = rows.map((r) => /^items_(\d{8})$/.exec(r.name)?.[1]).filter((s): s is string => !!s).map(parseDay).sort((x, y) => x - y);
    for (const day of days) {
      if ((day + 1) * DAY_MS > before) continue;
      const suffix = daySuffix(day);
      this.known.delete(day);
      try {
        // Counting reads only the day being dropped, never the rest of the table.
        const [{ n }] = await sql.unsafe<{ n: number }[]>(`SELECT count(*) AS n FROM items_${suffix}`);
        await dropTable(sql, `node_attempts_${suffix}`);
        await dropTable(sql, `items_${suffix}`);
        removed += n;
      } catch (err) {
        // Busy (a long query holds the parent): leave this day for the next sweep.
        if (sqlState(err) === '55P03' || sqlState(err) === '42P01') continue;
        throw err;
      }
    }
    // The day `before` falls inside: only its older rows, found through the partition's bound.
    const from = Math.floor(before / DAY_MS) * DAY_MS;
    if (before > from && Number.isSafeInteger(before)) {
      await sql`DELETE FROM node_attempts WHERE item_created_at >= ${from} AND item_created_at < ${before}`;
      const gone = await sql`DELETE FROM items WHERE created_at >= ${from} AND created_at < ${before}`;
      removed += gone.count;
    }
    return removed;
  }
}

export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** `20261120` for the UTC day containing 2026-11-20T12:00Z. */
export function daySuffix(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '');
}

function parseDay(suffix: string): number {
  return dayOf(Date.UTC(Number(suffix.slice(0, 4)), Number(suffix.slice(4, 6)) - 1, Number(suffix.slice(6, 8))));
}

async function missingDays(tx: Db, days: number[]): Promise<number[]> {
  const names = days.flatMap((d) => [`items_${daySuffix(d)}`, `node_attempts_${daySuffix(d)}`]);
  const rows = await tx<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relname = ANY(${names}::text[]) AND c.relispartition`;
  const present = new Set(rows.map((r) => r.name));
  return days.filter((d) => !present.has(`items_${daySuffix(d)}`) || !present.has(`node_attempts_${daySuffix(d)}`));
}

async function createDay(tx: Db, day: number): Promise<void> {
  const suffix = daySuffix(day);
  const from = day * DAY_MS;
  const to = from + DAY_MS;
  for (const parent of ['items', 'node_attempts']) {
    const name = `${parent}_${suffix}`;
    // Bounds are integers computed here, never user input, so they can be spelled into the DDL.
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${name} (LIKE ${parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    const [{ attached }] = await tx<{ attached: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = ${name}::regclass) AS attached`;
    if (!attached) await tx.unsafe(`ALTER TABLE ${parent} ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`);
  }
}

async function dropTable(sql: Sql, name: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(`SET LOCAL lock_timeout = '${DROP_LOCK_TIMEOUT}'`);
    await tx.unsafe(`DROP TABLE IF EXISTS ${name}`);
  });
}
