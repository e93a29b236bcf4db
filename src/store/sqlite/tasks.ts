import type Database from 'better-sqlite3';
import type { SubmitType } from '../../domain/object-path.js';
import { deriveStatus } from '../../domain/progress.js';
import type { Product } from '../../spec/types.js';
import { pathHash } from '../path-hash.js';
import { leaseToken } from '../lease-token.js';
import type { Reservation } from '../local-takers.js';
import type { ItemQuery, ItemRow, SubmitBatch, SubmitOutcome } from '../port.js';
import { SubmitDispatch } from './submit-dispatch.js';

/** Tasks and items on SQLite: the submit transaction, the describe queries, usage counters. */
export class SqliteTasks {
  private readonly stmt;
  private readonly dispatch: SubmitDispatch;

  constructor(private readonly db: Database.Database) {
    this.dispatch = new SubmitDispatch(db);
    this.stmt = {
    usageOf: db.prepare('SELECT used FROM usage_counters WHERE bucket = ?'),
    consume: db.prepare(
      'INSERT INTO usage_counters (bucket, used, expires_at) VALUES (?, ?, ?) ON CONFLICT(bucket) DO UPDATE SET used = used + excluded.used',
    ),
    openPreloads: db.prepare(
      "SELECT count(*) AS n FROM items WHERE account_id = ? AND product = ? AND object_type = 'preload' AND status IN ('Pending', 'Refreshing')",
    ),
    insertTask: db.prepare(
      `INSERT INTO tasks (account_id, product, domain, object_type, force, area, l2_preload, with_header, item_count, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertItem: db.prepare(
      `INSERT INTO items (task_id, account_id, product, domain, object_type, object_path, path_hash, created_at, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, '${deriveStatus({ total: null, applied: 0, failed: 0 })}')`,
    ),
    // An item dispatched at submit (submit-dispatch.ts): its node count is known, no node has confirmed it yet.
    insertDispatched: db.prepare(
      `INSERT INTO items (task_id, account_id, product, domain, object_type, object_path, path_hash, created_at, nodes_total, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '${deriveStatus({ total: 1, applied: 0, failed: 0 })}')`,
    ),
    };
  }

  /**
   * Check every consumption and the preload queue, then write tasks and items: one transaction.
   * With room of a local worker (`reserved`), the first items that fit are dispatched and
   * leased to it as they are written, before the commit (submit-dispatch.ts); `undispatched`
   * says how many items are left for the workers' own dispatch.
   */
  readonly submit = (batch: SubmitBatch, reserved?: Reservation): Written =>
    this.db.transaction((): Written => {
      for (const c of batch.consume) {
        const row = this.stmt.usageOf.get(c.bucket) as { used: number } | undefined;
        if ((row?.used ?? 0) + c.amount > c.limit) return refused({ ok: false, exceeded: c.bucket });
      }
      if (batch.preloadQueueLimit !== undefined) {
        const adding = batch.tasks.reduce((n, t) => n + t.paths.length, 0);
        const { n } = this.stmt.openPreloads.get(batch.accountId, batch.product) as { n: number };
        if (n + adding > batch.preloadQueueLimit) return refused({ ok: false, queueFull: true });
      }
      for (const c of batch.consume) this.stmt.consume.run(c.bucket, c.amount, c.expiresAt);
      const taker = reserved?.taker;
      let room = reserved && this.dispatch.open(batch.createdAt) ? reserved.room : 0;
      const token = room > 0 ? leaseToken(taker!.owner) : '';
      const taskIds: string[] = [];
      let undispatched = 0;
      for (const t of batch.tasks) {
        const id = Number(
          this.stmt.insertTask.run(
            batch.accountId, batch.product, t.domain, t.objectType, t.force ? 1 : 0, t.area,
            t.l2Preload ? 1 : 0, t.withHeader, t.paths.length, batch.createdAt,
          ).lastInsertRowid,
        );
        const scope = room > 0 ? this.dispatch.scope(t, room) : undefined;
        const take = scope?.take ?? 0;
        for (const [from, to] of SubmitDispatch.parts(take)) {
          const ids: number[] = [];
          for (let i = from; i < to; i++) {
            const p = t.paths[i];
            ids.push(Number(this.stmt.insertDispatched.run(id, batch.accountId, batch.product, t.domain, t.objectType, p, pathHash(p), batch.createdAt, scope!.nodes.length).lastInsertRowid));
          }
          const claimed = this.dispatch.lease(batch, t, id, from, ids, scope!, taker!, token);
          try {
            taker!.take(claimed);
          } catch {
            // Not running after all: the attempts stay leased until the lease runs out, then any worker takes them.
          }
        }
        for (let i = take; i < t.paths.length; i++) {
          const p = t.paths[i];
          this.stmt.insertItem.run(id, batch.accountId, batch.product, t.domain, t.objectType, p, pathHash(p), batch.createdAt);
        }
        if (scope) room -= take * scope.nodes.length;
        // Items left for dispatch keep their turn: no later task of the batch goes ahead of them.
        if (take < t.paths.length) room = 0;
        undispatched += t.paths.length - take;
        taskIds.push(String(id));
      }
      return { outcome: { ok: true, taskIds }, undispatched };
    }).immediate();

  /**
   * Describe queries, steered to the right index explicitly: nothing runs ANALYZE, so without
   * hints SQLite walks an account's whole time index and checks each row (measured at 10 M items
   * in docs/benchmarks.md). A unary + hides a column from the planner; INDEXED BY names one.
   * - task id: items_task; exact path: items_account_path (account_id, path_hash);
   * - domain (+ type, required by the API): items_account_domain_type;
   * - type (+ status): items_account_type, counting inside the index;
   * - nothing: items_account_time.
   * Count and page run in one read transaction, so a worker in another process cannot move rows
   * between them; a page past the middle is read from the other end (a short OFFSET).
   */
  query(q: ItemQuery): { total: number; rows: ItemRow[] } {
    const byTask = q.taskId !== undefined;
    const byPath = !byTask && q.objectPath !== undefined;
    const byDomain = !byTask && !byPath && q.domains !== undefined && q.objectType !== undefined;
    const byType = !byTask && !byPath && !byDomain && q.objectType !== undefined;
    const hide = byTask || byPath;
    const c = (column: string) => (hide ? `+${column}` : column);
    const where = [`${byTask ? '+' : ''}account_id = ?`, `${c('product')} = ?`, `${c('created_at')} BETWEEN ? AND ?`];
    const args: (string | number)[] = [q.accountId, q.product, q.from, q.to];
    if (byTask) (where.push('task_id = ?'), args.push(Number(q.taskId)));
    if (q.objectPath !== undefined) (where.push(`${byTask ? '+' : ''}path_hash = ? AND object_path = ?`), args.push(pathHash(q.objectPath), q.objectPath));
    if (q.objectType !== undefined) (where.push(`${c('object_type')} = ?`), args.push(q.objectType));
    const statuses = q.status === undefined ? undefined : [q.status].flat();
    if (statuses !== undefined) (where.push(`${c('status')} IN (${statuses.map(() => '?').join(',')})`), args.push(...statuses));
    else if (byType) where.push(`status IN ${ALL_STATUSES}`); // keeps the count inside items_account_type
    if (q.domains !== undefined) {
      where.push(`${c('domain')} IN (${q.domains.map(() => '?').join(',')})`);
      args.push(...q.domains);
    }
    const index = byDomain && q.domains!.length === 1 ? 'INDEXED BY items_account_domain_type' : byType && q.status !== undefined ? 'INDEXED BY items_account_type' : '';
    const sqlWhere = where.join(' AND ');
    const countIn = (from: number, to: number) =>
      (this.cached(`SELECT count(*) AS n FROM items ${index} WHERE ${sqlWhere}`).get(q.accountId, q.product, from, to, ...args.slice(4)) as { n: number }).n;
    return this.db.transaction(() => {
      const n = hide ? countIn(q.from, q.to) : this.countByHours(q, countIn);
      if (n <= q.offset || q.limit === 0) return { total: n, rows: [] };
      const fromEnd = q.offset * 2 > n;
      const order = fromEnd ? 'created_at ASC, id ASC' : 'created_at DESC, id DESC';
      const limit = fromEnd ? Math.min(q.limit, n - q.offset) : q.limit;
      const offset = fromEnd ? Math.max(0, n - q.offset - q.limit) : q.offset;
      const rows = this.cached(`SELECT ${ITEM_COLUMNS} FROM items ${index} WHERE ${sqlWhere} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...args, limit, offset).map(toItem);
      return { total: n, rows: fromEnd ? rows.reverse() : rows };
    })();
  }

  /**
   * TotalCount for filters item_counts can answer (type, status, domains): the whole UTC hours of
   * the window from the per-hour counts, the partial hours at its two ends through the index.
   * An account's 3-day count then reads ~72 × (types × statuses × domains) small rows instead of
   * every item (measured in docs/benchmarks.md).
   */
  private countByHours(q: ItemQuery, countIn: (from: number, to: number) => number): number {
    const firstHour = Math.ceil(q.from / HOUR_MS);
    const lastHour = Math.floor((q.to + 1) / HOUR_MS) - 1;
    if (firstHour > lastHour) return countIn(q.from, q.to);
    let n = 0;
    if (q.from < firstHour * HOUR_MS) n += countIn(q.from, firstHour * HOUR_MS - 1);
    if (q.to >= (lastHour + 1) * HOUR_MS) n += countIn((lastHour + 1) * HOUR_MS, q.to);
    const where = ['account_id = ?', 'product = ?', 'hour BETWEEN ? AND ?'];
    const args: (string | number)[] = [q.accountId, q.product, firstHour, lastHour];
    if (q.objectType !== undefined) (where.push('object_type = ?'), args.push(q.objectType));
    if (q.status !== undefined) {
      const statuses = [q.status].flat();
      (where.push(`status IN (${statuses.map(() => '?').join(',')})`), args.push(...statuses));
    }
    if (q.domains !== undefined) (where.push(`domain IN (${q.domains.map(() => '?').join(',')})`), args.push(...q.domains));
    const row = this.cached(`SELECT coalesce(sum(n), 0) AS n FROM item_counts WHERE ${where.join(' AND ')}`).get(...args) as { n: number };
    return n + row.n;
  }

  /** Rows of some tasks: straight through items_task (the other columns hidden from the planner). */
  ofTasks(accountId: number, product: Product, taskIds: string[], from: number): ItemRow[] {
    if (taskIds.length === 0) return [];
    const sql = `SELECT ${ITEM_COLUMNS} FROM items WHERE task_id IN (${taskIds.map(() => '?').join(',')}) AND +account_id = ? AND +product = ? AND +created_at >= ? ORDER BY task_id, id`;
    return this.cached(sql).all(...taskIds.map(Number), accountId, product, from).map(toItem);
  }

  usage(buckets: string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const b of buckets) out[b] = (this.stmt.usageOf.get(b) as { used: number } | undefined)?.used ?? 0;
    return out;
  }

  /** Daily buckets are `day:<yyyy-mm-dd>:<account>:<product>:<kind>` (domain/quota.ts). */
  usageTotals(day: string): { product: Product; kind: string; used: number }[] {
    const rows = this.db.prepare("SELECT bucket, used FROM usage_counters WHERE bucket >= ? AND bucket < ?").all(`day:${day}:`, `day:${day};`) as { bucket: string; used: number }[];
    const totals = new Map<string, number>();
    for (const r of rows) {
      const [, , , product, kind] = r.bucket.split(':');
      totals.set(`${product}:${kind}`, (totals.get(`${product}:${kind}`) ?? 0) + r.used);
    }
    return [...totals].map(([k, used]) => ({ product: k.split(':')[0] as Product, kind: k.split(':')[1], used }));
  }

  private readonly statementCache = new Map<string, Database.Statement>();
  private cached(sql: string): Database.Statement {
    let s = this.statementCache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.statementCache.size > 500) this.statementCache.clear();
      this.statementCache.set(sql, s);
    }
    return s;
  }
}

const HOUR_MS = 3_600_000;

/** A submit's result, and how many of its items wait for the workers' dispatch. */
type Written = { outcome: SubmitOutcome; undispatched: number };
const refused = (outcome: SubmitOutcome): Written => ({ outcome, undispatched: 0 });
const ALL_STATUSES = "('Pending', 'Refreshing', 'Complete', 'Failed')";
const ITEM_COLUMNS = 'task_id, object_path, object_type, domain, created_at, nodes_total, nodes_applied, nodes_failed, description';

function toItem(r: unknown): ItemRow {
  const x = r as Record<string, unknown>;
  return {
    taskId: String(x.task_id), objectPath: x.object_path as string, objectType: x.object_type as SubmitType,
    domain: x.domain as string, createdAt: x.created_at as number, description: x.description as string,
    counts: { total: (x.nodes_total as number | null) ?? null, applied: x.nodes_applied as number, failed: x.nodes_failed as number },
  };
}

/**
 * `EXISTS` an item of the task row aliased `t` that is still Pending or Refreshing: what keeps a
 * task unfinished, for the webhook finish scan (webhooks.ts) and WaitForTasks (queue.ts). It
 * seeks items_account_type on the task's own (account, product, type, status, created_at) and
 * item id range — a task's items share those — with `+` keeping the planner off items_task, so a
 * 1,000-item task one item short of done costs a few seeks instead of reading its 1,000 rows
 * (measured: 500 such tasks, 4 ms). Named, as without statistics the planner walks
 * items_account_time instead.
 */
export function openItemOf(t: string): string {
  return `EXISTS (
    SELECT 1 FROM items i INDEXED BY items_account_type
     WHERE i.account_id = ${t}.account_id AND i.product = ${t}.product AND i.object_type = ${t}.object_type
       AND i.status IN ('Pending', 'Refreshing') AND i.created_at = ${t}.created_at
       AND i.id BETWEEN (SELECT min(id) FROM items WHERE task_id = ${t}.id) AND (SELECT max(id) FROM items WHERE task_id = ${t}.id)
       AND +i.task_id = ${t}.id)`;
}

/**
 * Take the items of tasks [fromTask, toTask) out of item_counts before they are deleted: one
 * write per (hour, type, status, domain) instead of per item. Retention uses it, and so does the
 * benchmark when it removes what it ingested.
 */
export function subtractItemCounts(db: Database.Database, fromTask: number, toTask: number): void {
  const groups = db.prepare(
    `SELECT account_id, product, created_at / ${HOUR_MS} AS hour, object_type, status, domain, count(*) AS n
       FROM items WHERE task_id >= ? AND task_id < ? GROUP BY 1, 2, 3, 4, 5, 6`,
  ).all(fromTask, toTask) as { account_id: number; product: string; hour: number; object_type: string; status: string; domain: string; n: number }[];
  const key = 'account_id = ? AND product = ? AND hour = ? AND object_type = ? AND status = ? AND domain = ?';
  const sub = db.prepare(`UPDATE item_counts SET n = n - ? WHERE ${key}`);
  const drop = db.prepare(`DELETE FROM item_counts WHERE ${key} AND n <= 0`);
  for (const g of groups) {
    const k = [g.account_id, g.product, g.hour, g.object_type, g.status, g.domain];
    sub.run(g.n, ...k);
    drop.run(...k);
  }
}
