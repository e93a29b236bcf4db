import type Database from 'better-sqlite3';
import type { SubmitType } from '../../domain/object-path.js';
import type { Product } from '../../spec/types.js';
import { pathHash } from '../path-hash.js';
import type { ItemQuery, ItemRow, NodeAttemptRow } from '../port.js';
import { validTaskIds } from '../task-ids.js';

/**
 * The reads of the tasks role on SQLite: describe pages, a task's items and per-node attempts,
 * and the WaitForTasks probe.
 */
export class ItemReads {
  private readonly openTasks: Database.Statement;

  constructor(protected readonly db: Database.Database) {
    // The WaitForTasks probe: the webhook finish scan's test, on given tasks.
    this.openTasks = db.prepare(
      `SELECT count(*) AS n FROM tasks t
        WHERE t.id IN (SELECT value FROM json_each(?)) AND t.account_id = ? AND t.product = ? AND t.created_at >= ?
          AND ${openItemOf('t')}`,
    );
  }

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
  async queryItems(q: ItemQuery): Promise<{ total: number; rows: ItemRow[] }> {
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
  async itemsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<ItemRow[]> {
    if (taskIds.length === 0) return [];
    const sql = `SELECT ${ITEM_COLUMNS} FROM items WHERE task_id IN (${taskIds.map(() => '?').join(',')}) AND +account_id = ? AND +product = ? AND +created_at >= ? ORDER BY task_id, id`;
    return this.cached(sql).all(...taskIds.map(Number), accountId, product, from).map(toItem);
  }

  /** How many of these tasks (the account's, created since `from`) still have an item Pending or Refreshing. */
  async countOpenTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<number> {
    const ids = validTaskIds(taskIds).map(Number);
    if (ids.length === 0) return 0;
    return (this.openTasks.get(JSON.stringify(ids), accountId, product, from) as { n: number }).n;
  }

  async attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<NodeAttemptRow[]> {
    if (taskIds.length === 0) return [];
    return this.attemptsWhere(`i.task_id IN (${taskIds.map(() => '?').join(',')})`, taskIds.map(Number), accountId, product, from);
  }

  async attemptsOfItems(accountId: number, product: Product, itemIds: number[], from: number): Promise<NodeAttemptRow[]> {
    if (itemIds.length === 0) return [];
    return this.attemptsWhere(`i.id IN (${itemIds.map(() => '?').join(',')})`, itemIds, accountId, product, from);
  }

  private attemptsWhere(which: string, ids: number[], accountId: number, product: Product, from: number): NodeAttemptRow[] {
    const rows = this.db
      .prepare(
        `SELECT i.task_id, i.id AS item_id, i.object_path, a.state, a.attempts, a.last_error, a.applied_at, a.verified_by, a.phase, a.purged_at,
                n.name, n.driver, n.node_group, a.node_id
           FROM items i JOIN node_attempts a ON a.item_id = i.id LEFT JOIN nodes n ON n.id = a.node_id
          WHERE ${which} AND i.account_id = ? AND i.product = ? AND i.created_at >= ?
          ORDER BY i.task_id, i.id, a.node_id`,
      )
      .all(...ids, accountId, product, from) as Record<string, unknown>[];
    return rows.map((r) => ({
      taskId: String(r.task_id), itemId: r.item_id as number, objectPath: r.object_path as string,
      node: (r.name as string | null) ?? `removed-node-${r.node_id}`, driver: (r.driver as string | null) ?? '', group: (r.node_group as string | null) ?? '',
      state: r.state as NodeAttemptRow['state'], attempts: r.attempts as number,
      lastError: (r.last_error as string | null) ?? null, finishedAt: (r.applied_at as number | null) ?? null,
      appliedAt: r.state === 'applied' ? (r.applied_at as number) : null,
      verifiedBy: (r.verified_by as NodeAttemptRow['verifiedBy']) ?? null,
      phase: (r.phase as NodeAttemptRow['phase']) ?? null, purgedAt: r.purged_at === null ? null : Number(r.purged_at),
    }));
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

const ALL_STATUSES = "('Pending', 'Refreshing', 'Complete', 'Failed')";
const ITEM_COLUMNS = 'id, task_id, object_path, object_type, domain, created_at, nodes_total, nodes_applied, nodes_failed, description';

function toItem(r: unknown): ItemRow {
  const x = r as Record<string, unknown>;
  return {
    itemId: x.id as number, taskId: String(x.task_id), objectPath: x.object_path as string, objectType: x.object_type as SubmitType,
    domain: x.domain as string, createdAt: x.created_at as number, description: x.description as string,
    counts: { total: (x.nodes_total as number | null) ?? null, applied: x.nodes_applied as number, failed: x.nodes_failed as number },
  };
}

/**
 * `EXISTS` an item of the task row aliased `t` that is still Pending or Refreshing: what keeps a
 * task unfinished, for the webhook finish scan (outbox.ts) and WaitForTasks (countOpenTasks above). It
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
