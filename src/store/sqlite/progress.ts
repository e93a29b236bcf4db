import type Database from 'better-sqlite3';
import { deriveStatus } from '../../domain/progress.js';
import { CANCELED_DESCRIPTION } from '../../domain/records.js';

const HOUR_MS = 3_600_000;
const PENDING = deriveStatus({ total: null, applied: 0, failed: 0 });

/**
 * The one writer of item progress on SQLite: node counts (nodes_total, nodes_applied,
 * nodes_failed), the first failure's description, the status column derived from them, and the
 * per-hour counts in item_counts (kept by the migration's triggers on the status column and on
 * task inserts, and by forgetTasks before retention deletes rows). Submit, dispatch, outcomes,
 * cancels, node removal and retention all change progress through here, so counters == a recount of the
 * attempt rows and status == deriveStatus(counters) hold in one place (test/store/progress-contract.ts).
 *
 * It runs on the connection of its caller's transaction: the API connection for submits and
 * retention, the engine connection for the queue and fleet.
 */
export class SqliteProgress {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insertItem: db.prepare(
        `INSERT INTO items (task_id, account_id, product, domain, object_type, object_path, path_hash, created_at, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, '${PENDING}')`,
      ),
      // Dispatched at submit: its node count is known, no node has confirmed it yet.
      insertDispatched: db.prepare(
        `INSERT INTO items (task_id, account_id, product, domain, object_type, object_path, path_hash, created_at, nodes_total, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '${deriveStatus({ total: 1, applied: 0, failed: 0 })}')`,
      ),
      setScope: db.prepare('UPDATE items SET nodes_total = ?, status = ?, description = ? WHERE id IN (SELECT value FROM json_each(?))'),
      // Canceled before dispatch: every node in scope has an attempt, failed.
      setCanceled: db.prepare(
        'UPDATE items SET nodes_total = ?, nodes_failed = ?, status = ?, description = ? WHERE id IN (SELECT value FROM json_each(?)) AND nodes_total IS NULL',
      ),
      // [item, applied, failed, description] per item: its counts move once per batch.
      addCounts: db.prepare(
        `UPDATE items SET nodes_applied = nodes_applied + r.applied, nodes_failed = nodes_failed + r.failed,
                description = CASE WHEN items.description = '' THEN coalesce(r.first_error, '') ELSE items.description END
           FROM (SELECT value ->> 0 AS id, value ->> 1 AS applied, value ->> 2 AS failed, value ->> 3 AS first_error FROM json_each(?)) r
          WHERE items.id = r.id
          RETURNING items.id, items.nodes_total, items.nodes_applied, items.nodes_failed, items.status`,
      ),
      dropNode: db.prepare(
        `UPDATE items SET nodes_total = nodes_total - 1 WHERE id = ?
          RETURNING id, nodes_total, nodes_applied, nodes_failed, status`,
      ),
      // [item, status] pairs: one statement for a batch's status changes.
      setStatuses: db.prepare(
        `UPDATE items SET status = r.status FROM (SELECT value ->> 0 AS id, value ->> 1 AS status FROM json_each(?)) r WHERE items.id = r.id`,
      ),
    };
  }

  /** A new item, waiting for dispatch; returns its id. */
  insertItem(taskId: number, accountId: number, product: string, domain: string, objectType: string, path: string, hash: number, createdAt: number): number {
    return Number(this.s.insertItem.run(taskId, accountId, product, domain, objectType, path, hash, createdAt).lastInsertRowid);
  }

  /** A new item dispatched at submit onto `nodes` nodes; returns its id. */
  insertDispatched(taskId: number, accountId: number, product: string, domain: string, objectType: string, path: string, hash: number, createdAt: number, nodes: number): number {
    return Number(this.s.insertDispatched.run(taskId, accountId, product, domain, objectType, path, hash, createdAt, nodes).lastInsertRowid);
  }

  /** Items (a JSON array of ids) dispatched onto `nodes` nodes; with none, they fail at once, with the reason. */
  dispatched(itemIds: string, nodes: number): void {
    this.s.setScope.run(nodes, deriveStatus({ total: nodes, applied: 0, failed: 0 }), nodes === 0 ? 'Internal Error' : '', itemIds);
  }

  /** Items (a JSON array of ids) canceled before dispatch, with one failed attempt on each of their `nodes` nodes. */
  canceledBeforeDispatch(itemIds: string, nodes: number): void {
    this.s.setCanceled.run(nodes, nodes, deriveStatus({ total: nodes, applied: 0, failed: nodes }), CANCELED_DESCRIPTION, itemIds);
  }

  /** Outcomes counted in a batch, per item: [item, applied, failed, first failure's description]. */
  counted(counts: [number, number, number, string | null][]): void {
    if (counts.length === 0) return;
    this.setStatuses(this.s.addCounts.all(JSON.stringify(counts)) as CountsRow[]);
  }

  /** A removed node's unfinished attempts (one per item listed) leave their items' scope. */
  nodeRemoved(itemIds: number[]): void {
    const rows: CountsRow[] = [];
    for (const id of itemIds) {
      const row = this.s.dropNode.get(id) as CountsRow | undefined;
      if (row) rows.push(row);
    }
    this.setStatuses(rows);
  }

  /** Write status only where it changes: it is indexed, and the per-hour counts follow each change. */
  private setStatuses(rows: CountsRow[]): void {
    const changed: [number, string][] = [];
    for (const c of rows) {
      const status = deriveStatus({ total: c.nodes_total, applied: c.nodes_applied, failed: c.nodes_failed });
      if (status !== c.status) changed.push([c.id, status]);
    }
    if (changed.length > 0) this.s.setStatuses.run(JSON.stringify(changed));
  }
}

interface CountsRow {
  id: number;
  nodes_total: number | null;
  nodes_applied: number;
  nodes_failed: number;
  status: string;
}

/**
 * Take the items of tasks [fromTask, toTask) out of item_counts before they are deleted: one
 * write per (hour, type, status, domain) instead of per item. Retention uses it, and so does the
 * benchmark when it removes what it ingested.
 */
export function forgetTasks(db: Database.Database, fromTask: number, toTask: number): void {
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
