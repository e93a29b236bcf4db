import type Database from 'better-sqlite3';
import { CANCELED_DESCRIPTION, CANCELED_ERROR, nodesInScope } from '../../domain/records.js';
import type { Product } from '../../spec/types.js';
import type { CacheNode, CanceledTask } from '../port.js';
import { toNode } from './fleet.js';
import type { SqliteProgress } from './progress.js';

/**
 * Attempts closed per transaction: a cancel of a big task (1,000 items on hundreds of nodes is
 * hundreds of thousands of rows) must not hold the event loop, which the API and the worker
 * share, for seconds; ~2,000 rows is a few milliseconds.
 */
export const CANCEL_STEP = 2_000;

/**
 * CancelRefreshTasks on SQLite, in IMMEDIATE transactions on the API connection. SQLite has one
 * writer at a time, so no worker records an outcome, dispatches or claims while one runs.
 *
 * 1. Undispatched items get one failed attempt per node in scope, as a dispatch would have
 *    given them, with their counts: a dispatch can no longer take them.
 * 2. Pending attempts are closed, with their items' counts, item by item in id order. An
 *    attempt closed is no longer pending under any lease, and a worker's outcome for it later
 *    matches no row (queue.ts records only `pending` attempts still leased under the outcome's
 *    token), so it is neither counted twice nor reopened.
 *
 * Both go about CANCEL_STEP attempts per transaction, the event loop free between steps; each
 * step keeps attempt rows and counts in step. Between steps a worker may dispatch, record or
 * start work of a later step: what a node applied is reported as applied, as for attempts
 * already running when the cancel came, and what is still pending is closed by a later step.
 * Step 2 never looks back at items it has passed: nothing makes an attempt pending again once
 * it is applied or failed (a purge-then-warm attempt turns into its preload while still
 * pending, in the same write), and every attempt of a task exists once step 1 is done (only
 * a dispatch of its items inserts them). Each step reads only its own items' rows, so a task of
 * a million attempts is closed in steps that each cost the same, not in steps that each read
 * again every row closed before them.
 *
 * Each step commits without an fsync; the answer waits for one flush of the WAL at the end
 * (wal-sync.ts), so "canceled" is on disk when the caller hears it, as with a submit.
 */
export class SqliteCancel {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly progress: SqliteProgress,
  ) {
    this.s = {
      // The task's domain gives the node group, as the dispatch's join does (jobs.ts JOB_FROM).
      tasks: db.prepare(
        `SELECT t.id, t.area, coalesce(d.node_group, 'default') AS grp FROM tasks t LEFT JOIN domains d ON d.name = t.domain
          WHERE t.id IN (SELECT value FROM json_each(?)) AND t.account_id = ? AND t.product = ? AND t.created_at >= ?
          ORDER BY t.id`,
      ),
      undispatched: db.prepare('SELECT id FROM items WHERE task_id = ? AND nodes_total IS NULL ORDER BY id LIMIT ?'),
      nodesOf: db.prepare('SELECT * FROM nodes WHERE node_group = ? AND enabled = 1 ORDER BY id'),
      // The attempts dispatch would have written, already closed; applied_at is when the node finished.
      insertCanceled: db.prepare(
        `INSERT OR IGNORE INTO node_attempts (item_id, node_id, state, attempts, next_run_at, last_error, applied_at)
         SELECT i.value, n.value, 'failed', 0, ?, '${CANCELED_ERROR}', ? FROM json_each(?) i, json_each(?) n`,
      ),
      // The task's next items after the last one closed, in id order along items_task.
      nextItems: db.prepare('SELECT id FROM items WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?'),
      // Leased or not, due or backing off: these items' attempts not yet finished.
      closePending: db.prepare(
        `UPDATE node_attempts SET state = 'failed', last_error = '${CANCELED_ERROR}', applied_at = ?, lease_owner = NULL, lease_until = NULL
          WHERE item_id IN (SELECT value FROM json_each(?)) AND state = 'pending'
          RETURNING item_id`,
      ),
      summary: db.prepare(
        `SELECT task_id, count(*) AS items, sum(status = 'Complete') AS complete, sum(status = 'Failed') AS failed, sum(nodes_applied) AS applied
           FROM items WHERE task_id IN (SELECT value FROM json_each(?)) GROUP BY task_id`,
      ),
    };
  }

  /**
   * `unsynced` runs a transaction without its fsync and `durable` waits for the flush
   * (SqliteTasks); both are plain calls on a file without WAL.
   */
  async cancel(
    accountId: number, product: Product, taskIds: number[], from: number, now: number,
    unsynced: <T>(run: () => T) => T, durable: () => Promise<void>,
  ): Promise<CanceledTask[]> {
    const tasks = this.s.tasks.all(JSON.stringify(taskIds), accountId, product, from) as FoundTask[];
    if (tasks.length === 0) return [];
    const ids = JSON.stringify(tasks.map((t) => t.id));
    const canceled: Tally = new Map(tasks.map((t) => [t.id, { items: new Set(), nodes: 0 }]));
    for (const t of tasks) {
      while (unsynced(() => this.db.transaction(() => this.beforeDispatchStep(t, now, canceled)).immediate())) {
        await new Promise((r) => setImmediate(r));
      }
    }
    for (const t of tasks) {
      const per = itemsPerStep(this.scope(t).length);
      for (let after = 0; after >= 0; ) {
        after = unsynced(() => this.db.transaction(() => this.closeStep(t.id, after, per, now, canceled)).immediate());
        if (after >= 0) await new Promise((r) => setImmediate(r));
      }
    }
    const summary = this.s.summary.all(ids) as { task_id: number; items: number; complete: number; failed: number; applied: number }[];
    await durable();
    return summary.map((r) => ({
      taskId: String(r.task_id), items: r.items, complete: r.complete, failed: r.failed,
      canceledItems: canceled.get(r.task_id)!.items.size, canceledNodes: canceled.get(r.task_id)!.nodes, appliedNodes: r.applied,
    }));
  }

  /**
   * Step 1, once: up to a step's worth of the task's undispatched items get one failed attempt
   * per node in scope, as a dispatch would have given them. Says whether more may be left.
   */
  private beforeDispatchStep(t: FoundTask, now: number, canceled: Tally): boolean {
    const nodes = this.scope(t);
    const per = itemsPerStep(nodes.length);
    const items = (this.s.undispatched.all(t.id, per) as { id: number }[]).map((r) => r.id);
    if (items.length === 0) return false;
    const ids = JSON.stringify(items);
    this.s.insertCanceled.run(now, now, ids, JSON.stringify(nodes.map((n) => n.id)));
    this.progress.canceledBeforeDispatch(ids, nodes.length);
    const c = canceled.get(t.id)!;
    for (const id of items) c.items.add(id);
    c.nodes += items.length * nodes.length;
    return items.length === per;
  }

  /**
   * Step 2, until done: close the pending attempts of the task's next `per` items after item
   * `after` and count them on their items. Returns the last item it looked at, or -1 when the
   * task has no items left.
   */
  private closeStep(taskId: number, after: number, per: number, now: number, canceled: Tally): number {
    const items = (this.s.nextItems.all(taskId, after, per) as { id: number }[]).map((r) => r.id);
    if (items.length === 0) return -1;
    const closed = this.s.closePending.all(now, JSON.stringify(items)) as { item_id: number }[];
    const perItem = new Map<number, number>();
    for (const { item_id } of closed) perItem.set(item_id, (perItem.get(item_id) ?? 0) + 1);
    if (perItem.size > 0) this.progress.counted([...perItem].map(([id, n]): [number, number, number, string] => [id, 0, n, CANCELED_DESCRIPTION]));
    const c = canceled.get(taskId)!;
    for (const [item, n] of perItem) {
      c.items.add(item);
      c.nodes += n;
    }
    return items.length < per ? -1 : items[items.length - 1];
  }

  /** The task's nodes in scope, as a dispatch would find them. */
  private scope(t: FoundTask): CacheNode[] {
    return nodesInScope(this.s.nodesOf.all(t.grp).map(toNode), t.grp, t.area);
  }
}

/** Items per step: about CANCEL_STEP attempts, one per node in scope. */
function itemsPerStep(nodes: number): number {
  return Math.max(1, Math.floor(CANCEL_STEP / Math.max(1, nodes)));
}

interface FoundTask {
  id: number;
  area: string | null;
  grp: string;
}

/** Per task: the items this cancel stopped work on, and how many node attempts it closed. */
type Tally = Map<number, { items: Set<number>; nodes: number }>;
