import type Database from 'better-sqlite3';
import { CANCELED_DESCRIPTION, CANCELED_ERROR, nodesInScope } from '../../domain/records.js';
import type { Product } from '../../spec/types.js';
import type { CanceledTask } from '../port.js';
import { toNode } from './fleet.js';
import type { SqliteProgress } from './progress.js';

/**
 * CancelRefreshTasks on SQLite: one IMMEDIATE transaction on the API connection. SQLite has one
 * writer at a time, so no worker records an outcome, dispatches or claims while it runs; an
 * attempt it closes is no longer pending under any lease, and a worker's outcome for it later
 * matches no row (queue.ts records only `pending` attempts still leased under the outcome's
 * token), so it is neither counted twice nor reopened.
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
      undispatched: db.prepare('SELECT id FROM items WHERE task_id = ? AND nodes_total IS NULL ORDER BY id'),
      nodesOf: db.prepare('SELECT * FROM nodes WHERE node_group = ? AND enabled = 1 ORDER BY id'),
      // The attempts dispatch would have written, already closed; applied_at is when the node finished.
      insertCanceled: db.prepare(
        `INSERT OR IGNORE INTO node_attempts (item_id, node_id, state, attempts, next_run_at, last_error, applied_at)
         SELECT i.value, n.value, 'failed', 0, ?, '${CANCELED_ERROR}', ? FROM json_each(?) i, json_each(?) n`,
      ),
      // Leased or not, due or backing off: every attempt not yet finished.
      closePending: db.prepare(
        `UPDATE node_attempts SET state = 'failed', last_error = '${CANCELED_ERROR}', applied_at = ?, lease_owner = NULL, lease_until = NULL
          WHERE item_id IN (SELECT id FROM items WHERE task_id IN (SELECT value FROM json_each(?))) AND state = 'pending'
          RETURNING item_id`,
      ),
      taskOf: db.prepare('SELECT id, task_id FROM items WHERE id IN (SELECT value FROM json_each(?))'),
      summary: db.prepare(
        `SELECT task_id, count(*) AS items, sum(status = 'Complete') AS complete, sum(status = 'Failed') AS failed, sum(nodes_applied) AS applied
           FROM items WHERE task_id IN (SELECT value FROM json_each(?)) GROUP BY task_id`,
      ),
    };
  }

  cancel(accountId: number, product: Product, taskIds: number[], from: number, now: number): CanceledTask[] {
    return this.db.transaction((): CanceledTask[] => {
      const tasks = this.s.tasks.all(JSON.stringify(taskIds), accountId, product, from) as { id: number; area: string | null; grp: string }[];
      if (tasks.length === 0) return [];
      const found = JSON.stringify(tasks.map((t) => t.id));
      const canceled = new Map<number, { items: Set<number>; nodes: number }>(tasks.map((t) => [t.id, { items: new Set(), nodes: 0 }]));

      for (const t of tasks) {
        const items = (this.s.undispatched.all(t.id) as { id: number }[]).map((r) => r.id);
        if (items.length === 0) continue;
        const nodes = nodesInScope(this.s.nodesOf.all(t.grp).map(toNode), t.grp, t.area);
        const ids = JSON.stringify(items);
        this.s.insertCanceled.run(now, now, ids, JSON.stringify(nodes.map((n) => n.id)));
        this.progress.canceledBeforeDispatch(ids, nodes.length);
        const c = canceled.get(t.id)!;
        for (const id of items) c.items.add(id);
        c.nodes += items.length * nodes.length;
      }

      const closed = this.s.closePending.all(now, found) as { item_id: number }[];
      const perItem = new Map<number, number>();
      for (const { item_id } of closed) perItem.set(item_id, (perItem.get(item_id) ?? 0) + 1);
      if (perItem.size > 0) {
        this.progress.counted([...perItem].map(([id, n]): [number, number, number, string] => [id, 0, n, CANCELED_DESCRIPTION]));
        const taskOf = new Map<number, number>();
        for (const r of this.s.taskOf.all(JSON.stringify([...perItem.keys()])) as { id: number; task_id: number }[]) taskOf.set(r.id, r.task_id);
        for (const [item, n] of perItem) {
          const c = canceled.get(taskOf.get(item)!)!;
          c.items.add(item);
          c.nodes += n;
        }
      }

      const summary = this.s.summary.all(found) as { task_id: number; items: number; complete: number; failed: number; applied: number }[];
      return summary.map((r) => ({
        taskId: String(r.task_id), items: r.items, complete: r.complete, failed: r.failed,
        canceledItems: canceled.get(r.task_id)!.items.size, canceledNodes: canceled.get(r.task_id)!.nodes, appliedNodes: r.applied,
      }));
    }).immediate();
  }
}
