import type postgres from 'postgres';
import type { Product } from '../../spec/types.js';
import { pathHash } from '../path-hash.js';
import type { CanceledTask, ItemQuery, ItemRow, NodeAttemptRow, SubmitBatch, SubmitOutcome, TaskStore } from '../port.js';
import { PgCancel } from './cancel.js';
import { answerOfToken, recordToken } from './client-tokens.js';
import type { DayPartitions } from './partitions.js';
import { PENDING } from './progress.js';
import type { PgQueue } from './queue.js';
import { validTaskIds } from '../task-ids.js';
import { joinVerifyUrls } from '../verify-urls.js';
import { ITEM_COLUMNS, openItemOfT, sqlState, toItem, type Db, type Sql } from './rows.js';

/** Channel for "new work committed"; the payload names the store instance that sent it. */
export const WORK_CHANNEL = 'refreshd_work';
/** Advisory lock class (two-int form: class, account id) serializing preload-limited submits. */
const PRELOAD_LOCK_CLASS = 0x7266_7301;

/**
 * Submissions and item queries on PostgreSQL. A submit is one transaction that many API
 * processes may run at once, so every check that guards a limit locks what it reads:
 * usage counter rows are upserted and locked in bucket order (no deadlock between submits that
 * share buckets), and the preload queue count runs under a per-account advisory lock.
 */
export class PgTasks implements TaskStore {
  private readonly canceler: PgCancel;

  constructor(
    private readonly sql: Sql,
    private readonly partitions: DayPartitions,
    private readonly instance: string,
    private readonly queue: PgQueue,
  ) {
    this.canceler = new PgCancel(sql);
  }

  /**
   * One transaction. With `batch.lease`, it also dispatches, oldest first, the undispatched
   * items that fit in the room, leased to that worker (PgQueue.dispatchIn), and returns them
   * once committed; items that do not fit wait for any worker's dispatch. The commit is durable
   * (synchronous_commit), so `durable()` has nothing left to wait for.
   */
  async submit(batch: SubmitBatch): Promise<SubmitOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        let days: number[] = [];
        const outcome = await this.sql.begin(async (tx): Promise<SubmitOutcome> => {
          const claim = batch.clientToken;
          const earlier = claim && (await answerOfToken(tx, batch.accountId, claim, batch.createdAt));
          if (earlier) return earlier.ok ? { ...earlier, durable: async () => {} } : earlier;
          const refused = (await this.checkUsage(tx, batch)) ?? (await this.checkPreloadQueue(tx, batch));
          if (refused) return refused;
          days = await this.partitions.ensure(tx, [batch.createdAt]);
          await consume(tx, batch);
          const taskIds = await insertTasks(tx, batch);
          if (claim) await recordToken(tx, batch.accountId, claim, taskIds, batch.createdAt);
          const items = batch.tasks.reduce((n, t) => n + t.paths.length, 0);
          const lease = batch.lease && { owner: batch.lease.owner, leaseMs: batch.lease.leaseMs, max: batch.lease.room, onlyLeased: true };
          const { dispatched, claimed } = lease ? await this.queue.dispatchIn(tx, batch.createdAt, items, lease) : { dispatched: 0, claimed: [] };
          await tx`SELECT pg_notify(${WORK_CHANNEL}, ${this.instance})`; // delivered on commit
          return { ok: true, taskIds, leased: claimed, waiting: items - dispatched, durable: async () => {} };
        });
        if (outcome.ok) this.partitions.remember(days);
        return outcome;
      } catch (err) {
        // 23514 "no partition of relation found for row": another process's retention dropped
        // a day this process thought it had; ensure() checks the catalog again on the retry.
        if (attempt === 1 && sqlState(err) === '23514') {
          this.partitions.forget(batch.createdAt);
          continue;
        }
        throw err;
      }
    }
  }

  /** Lock the counters (creating missing ones at 0) and check every consumption against them. */
  private async checkUsage(tx: Db, batch: SubmitBatch): Promise<SubmitOutcome | undefined> {
    if (batch.consume.length === 0) return undefined;
    const expiry = new Map<string, number>();
    for (const c of batch.consume) expiry.set(c.bucket, Math.max(expiry.get(c.bucket) ?? 0, c.expiresAt));
    const buckets = [...expiry.keys()];
    // ON CONFLICT DO UPDATE locks each existing row and returns its latest committed value; the
    // ORDER BY fixes the locking order. A refused submit leaves zero rows behind, which read as 0.
    const rows = await tx<{ bucket: string; used: number }[]>`
      INSERT INTO usage_counters (bucket, used, expires_at)
      SELECT b, 0, e FROM unnest(${buckets}::text[], ${buckets.map((b) => expiry.get(b)!)}::bigint[]) AS u(b, e) ORDER BY b
      ON CONFLICT (bucket) DO UPDATE SET used = usage_counters.used
      RETURNING bucket, used`;
    const used = new Map(rows.map((r) => [r.bucket, r.used]));
    for (const c of batch.consume) {
      if ((used.get(c.bucket) ?? 0) + c.amount > c.limit) return { ok: false, exceeded: c.bucket };
    }
    return undefined;
  }

  private async checkPreloadQueue(tx: Db, batch: SubmitBatch): Promise<SubmitOutcome | undefined> {
    if (batch.preloadQueueLimit === undefined) return undefined;
    await tx`SELECT pg_advisory_xact_lock(${PRELOAD_LOCK_CLASS}::int, ${batch.accountId}::int)`;
    const adding = batch.tasks.reduce((n, t) => n + t.paths.length, 0);
    const [{ n }] = await tx<{ n: number }[]>`
      SELECT count(*) AS n FROM items
       WHERE account_id = ${batch.accountId} AND product = ${batch.product} AND object_type = 'preload'
         AND status IN ('Pending', 'Refreshing')`;
    return n + adding > batch.preloadQueueLimit ? { ok: false, queueFull: true } : undefined;
  }

  async cancelTasks(accountId: number, product: Product, taskIds: string[], from: number, now: number): Promise<CanceledTask[]> {
    const ids = validTaskIds(taskIds);
    return ids.length === 0 ? [] : this.canceler.cancel(accountId, product, ids, from, now);
  }

  /**
   * Describe pages. The count (TotalCount) and the page run side by side on two pooled
   * connections when the page is the first; deeper pages need the count first, because a page
   * past the middle is read from the oldest end with a short OFFSET and reversed (an OFFSET of
   * 100,000 rows costs 400 ms at 10 M items, docs/benchmarks.md). One domain is compared with =
   * rather than = ANY, so the page comes in index order from items_account_domain_type.
   */
  async queryItems(q: ItemQuery): Promise<{ total: number; rows: ItemRow[] }> {
    const sql = this.sql;
    const filters = [];
    if (q.taskId !== undefined) {
      if (validTaskIds([q.taskId]).length === 0) return { total: 0, rows: [] };
      filters.push(sql`AND task_id = ${q.taskId}::bigint`);
    }
    if (q.objectPath !== undefined) filters.push(sql`AND path_hash = ${pathHash(q.objectPath)} AND object_path = ${q.objectPath}`);
    if (q.objectType !== undefined) filters.push(sql`AND object_type = ${q.objectType}`);
    if (typeof q.status === 'string') filters.push(sql`AND status = ${q.status}`);
    else if (q.status !== undefined) filters.push(sql`AND status IN ${sql([...q.status])}`);
    if (q.domains?.length === 1) filters.push(sql`AND domain = ${q.domains[0]}`);
    else if (q.domains !== undefined) filters.push(sql`AND domain = ANY(${q.domains}::text[])`);
    const where = sql`account_id = ${q.accountId} AND product = ${q.product} AND created_at BETWEEN ${q.from} AND ${q.to} ${filters.length > 0 ? filters : sql``}`;
    const count = async () => (await sql<{ n: number }[]>`SELECT count(*) AS n FROM items WHERE ${where}`)[0].n;
    const page = async (fromEnd: boolean, limit: number, offset: number) => {
      const order = fromEnd ? sql`created_at ASC, id ASC` : sql`created_at DESC, id DESC`;
      const rows = (await sql`SELECT ${sql.unsafe(ITEM_COLUMNS)} FROM items WHERE ${where} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`).map(toItem);
      return fromEnd ? rows.reverse() : rows;
    };
    if (q.offset === 0) {
      const [n, rows] = await Promise.all([count(), page(false, q.limit, 0)]);
      return { total: n, rows };
    }
    const n = await count();
    if (n <= q.offset || q.limit === 0) return { total: n, rows: [] };
    if (q.offset * 2 <= n) return { total: n, rows: await page(false, q.limit, q.offset) };
    return { total: n, rows: await page(true, Math.min(q.limit, n - q.offset), Math.max(0, n - q.offset - q.limit)) };
  }

  async itemsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<ItemRow[]> {
    const ids = validTaskIds(taskIds);
    if (ids.length === 0) return [];
    const rows = await this.sql`
      SELECT ${this.sql.unsafe(ITEM_COLUMNS)} FROM items
       WHERE task_id = ANY(${ids}::bigint[]) AND account_id = ${accountId} AND product = ${product} AND created_at >= ${from}
       ORDER BY items.task_id, id`;
    return rows.map(toItem);
  }

  /** The WaitForTasks probe: the webhook finish scan's test (rows.ts openItemOfT), on given tasks. */
  async countOpenTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<number> {
    const ids = validTaskIds(taskIds);
    if (ids.length === 0) return 0;
    const [r] = await this.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM tasks t
       WHERE t.id = ANY(${ids}::bigint[]) AND t.account_id = ${accountId} AND t.product = ${product} AND t.created_at >= ${from}
         AND ${openItemOfT(this.sql)}`;
    return r.n;
  }

  async attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<NodeAttemptRow[]> {
    const ids = validTaskIds(taskIds);
    if (ids.length === 0) return [];
    return this.attemptsWhere(this.sql`i.task_id = ANY(${ids}::bigint[])`, accountId, product, from);
  }

  async attemptsOfItems(accountId: number, product: Product, itemIds: number[], from: number): Promise<NodeAttemptRow[]> {
    if (itemIds.length === 0) return [];
    return this.attemptsWhere(this.sql`i.id = ANY(${itemIds}::bigint[])`, accountId, product, from);
  }

  private async attemptsWhere(which: postgres.PendingQuery<postgres.Row[]>, accountId: number, product: Product, from: number): Promise<NodeAttemptRow[]> {
    const rows = await this.sql<Record<string, unknown>[]>`
      SELECT i.task_id::text AS task_id, i.id AS item_id, i.object_path, a.state, a.attempts, a.last_error, a.applied_at, a.verified_by, a.phase, a.purged_at,
             n.name, n.driver, n.node_group, a.node_id
        FROM items i JOIN node_attempts a ON a.item_id = i.id AND a.item_created_at = i.created_at
        LEFT JOIN nodes n ON n.id = a.node_id
       WHERE ${which} AND i.account_id = ${accountId} AND i.product = ${product} AND i.created_at >= ${from}
       ORDER BY i.task_id, i.id, a.node_id`;
    return rows.map((r) => ({
      taskId: r.task_id as string, itemId: Number(r.item_id), objectPath: r.object_path as string,
      node: (r.name as string | null) ?? `removed-node-${r.node_id}`, driver: (r.driver as string | null) ?? '', group: (r.node_group as string | null) ?? '',
      state: r.state as NodeAttemptRow['state'], attempts: r.attempts as number,
      lastError: (r.last_error as string | null) ?? null, finishedAt: (r.applied_at as number | null) ?? null,
      appliedAt: r.state === 'applied' ? (r.applied_at as number) : null,
      verifiedBy: (r.verified_by as NodeAttemptRow['verifiedBy']) ?? null,
      phase: (r.phase as NodeAttemptRow['phase']) ?? null, purgedAt: r.purged_at === null ? null : Number(r.purged_at),
    }));
  }

  async usage(buckets: string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const b of buckets) out[b] = 0;
    if (buckets.length === 0) return out;
    const rows = await this.sql<{ bucket: string; used: number }[]>`SELECT bucket, used FROM usage_counters WHERE bucket = ANY(${buckets}::text[])`;
    for (const r of rows) out[r.bucket] = r.used;
    return out;
  }
}

async function consume(tx: Db, batch: SubmitBatch): Promise<void> {
  if (batch.consume.length === 0) return;
  const amounts = new Map<string, number>();
  for (const c of batch.consume) amounts.set(c.bucket, (amounts.get(c.bucket) ?? 0) + c.amount);
  await tx`
    UPDATE usage_counters c SET used = c.used + u.amount
      FROM unnest(${[...amounts.keys()]}::text[], ${[...amounts.values()]}::bigint[]) AS u(bucket, amount)
     WHERE c.bucket = u.bucket`;
}

/** Tasks get their ids in one round trip, ascending in batch order; items follow in one insert. */
async function insertTasks(tx: Db, batch: SubmitBatch): Promise<string[]> {
  const n = batch.tasks.length;
  if (n === 0) return [];
  const seq = await tx<{ id: string }[]>`
    SELECT nextval(pg_get_serial_sequence('tasks', 'id'))::text AS id FROM generate_series(1, ${n}::int)`;
  const ids = seq.map((r) => r.id).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  const t = batch.tasks;
  // Booleans travel as 0/1: postgres.js would type a JS boolean array as a scalar boolean.
  await tx`
    INSERT INTO tasks (id, account_id, product, domain, object_type, force, area, l2_preload, with_header, verify_urls, item_count, created_at, preload_after)
    OVERRIDING SYSTEM VALUE
    SELECT id, ${batch.accountId}, ${batch.product}, domain, object_type, force::boolean, area, l2_preload::boolean, with_header, verify_urls, item_count, ${batch.createdAt},
           preload_after::boolean
      FROM unnest(${ids}::bigint[], ${t.map((x) => x.domain)}::text[], ${t.map((x) => x.objectType)}::text[],
                  ${t.map((x) => +x.force)}::int[], ${t.map((x) => x.area)}::text[], ${t.map((x) => +x.l2Preload)}::int[],
                  ${t.map((x) => x.withHeader)}::text[], ${t.map((x) => joinVerifyUrls(x.verifyUrls))}::text[], ${t.map((x) => x.paths.length)}::int[], ${t.map((x) => +(x.preloadAfter ?? false))}::int[])
           AS u(id, domain, object_type, force, area, l2_preload, with_header, verify_urls, item_count, preload_after)`;
  const itemTask: string[] = [];
  const itemDomain: string[] = [];
  const itemType: string[] = [];
  const itemPath: string[] = [];
  const itemHash: number[] = [];
  t.forEach((task, i) => {
    for (const p of task.paths) {
      itemTask.push(ids[i]);
      itemDomain.push(task.domain);
      itemType.push(task.objectType);
      itemPath.push(p);
      itemHash.push(pathHash(p));
    }
  });
  // Rows are read from unnest in array order, so item ids ascend in the order paths were given.
  await tx`
    INSERT INTO items (task_id, account_id, product, domain, object_type, object_path, path_hash, created_at, status)
    SELECT task_id, ${batch.accountId}, ${batch.product}, domain, object_type, object_path, path_hash, ${batch.createdAt}, ${PENDING}
      FROM unnest(${itemTask}::bigint[], ${itemDomain}::text[], ${itemType}::text[], ${itemPath}::text[], ${itemHash}::bigint[])
           AS u(task_id, domain, object_type, object_path, path_hash)`;
  return ids;
}
