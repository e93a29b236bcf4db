import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { SubmitType } from '../../domain/object-path.js';
import { deriveStatus } from '../../domain/progress.js';
import type { Product } from '../../spec/types.js';
import type { AttemptResult, ClaimedAttempt, NodeAttemptRow } from '../port.js';
import { toNode } from './fleet.js';

/**
 * The execution queue on SQLite (DESIGN.md convention 5: queue state is data). Items are
 * dispatched into one attempt row per node in scope; workers lease due attempts, and outcomes
 * are recorded only while the lease is still theirs, so a reaped attempt is never counted twice.
 */
export class SqliteQueue {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      undispatched: db.prepare(
        `SELECT i.id, t.area, d.node_group AS grp FROM items i
           JOIN tasks t ON t.id = i.task_id LEFT JOIN domains d ON d.name = i.domain
          WHERE i.nodes_total IS NULL ORDER BY i.id LIMIT ?`,
      ),
      nodesOf: db.prepare('SELECT id, area FROM nodes WHERE node_group = ? AND enabled = 1'),
      insertAttempt: db.prepare("INSERT OR IGNORE INTO node_attempts (item_id, node_id, state, attempts, next_run_at) VALUES (?, ?, 'pending', 0, ?)"),
      setScope: db.prepare('UPDATE items SET nodes_total = ?, status = ?, description = ? WHERE id = ?'),
      lease: db.prepare(
        `UPDATE node_attempts SET lease_owner = ?, lease_until = ?
          WHERE (item_id, node_id) IN (
            SELECT item_id, node_id FROM node_attempts
             WHERE state = 'pending' AND lease_owner IS NULL AND next_run_at <= ?
             ORDER BY next_run_at LIMIT ?)
          RETURNING item_id, node_id, attempts`,
      ),
      jobOf: db.prepare(
        `SELECT i.task_id, i.object_type, i.object_path, i.domain, t.force, t.with_header, d.origin
           FROM items i JOIN tasks t ON t.id = i.task_id LEFT JOIN domains d ON d.name = i.domain WHERE i.id = ?`,
      ),
      nodeById: db.prepare('SELECT * FROM nodes WHERE id = ?'),
      applied: db.prepare(
        "UPDATE node_attempts SET state = 'applied', attempts = attempts + 1, applied_at = ?, last_error = NULL, lease_owner = NULL, lease_until = NULL WHERE item_id = ? AND node_id = ? AND state = 'pending' AND lease_owner = ?",
      ),
      retry: db.prepare(
        'UPDATE node_attempts SET attempts = attempts + 1, next_run_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL WHERE item_id = ? AND node_id = ? AND state = \'pending\' AND lease_owner = ?',
      ),
      failed: db.prepare(
        "UPDATE node_attempts SET state = 'failed', attempts = attempts + 1, last_error = ?, lease_owner = NULL, lease_until = NULL WHERE item_id = ? AND node_id = ? AND state = 'pending' AND lease_owner = ?",
      ),
      countApplied: db.prepare('UPDATE items SET nodes_applied = nodes_applied + 1 WHERE id = ?'),
      countFailed: db.prepare("UPDATE items SET nodes_failed = nodes_failed + 1, description = CASE WHEN description = '' THEN ? ELSE description END WHERE id = ?"),
      countsOf: db.prepare('SELECT nodes_total, nodes_applied, nodes_failed FROM items WHERE id = ?'),
      setStatus: db.prepare('UPDATE items SET status = ? WHERE id = ?'),
      renew: db.prepare("UPDATE node_attempts SET lease_until = ? WHERE lease_owner = ? AND state = 'pending'"),
      reap: db.prepare('UPDATE node_attempts SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND lease_until < ?'),
    };
  }

  dispatch(now: number, limit: number): number {
    return this.db.transaction(() => {
      const rows = this.s.undispatched.all(limit) as { id: number; area: string | null; grp: string | null }[];
      const groups = new Map<string, { id: number; area: string }[]>();
      for (const r of rows) {
        const group = r.grp ?? 'default';
        let nodes = groups.get(group);
        if (!nodes) groups.set(group, (nodes = this.s.nodesOf.all(group) as { id: number; area: string }[]));
        // A preload with an Area warms only that area's nodes; everything else goes to the whole group.
        const scope = r.area ? nodes.filter((n) => n.area === r.area) : nodes;
        for (const n of scope) this.s.insertAttempt.run(r.id, n.id, now);
        const counts = { total: scope.length, applied: 0, failed: 0 };
        this.s.setScope.run(scope.length, deriveStatus(counts), scope.length === 0 ? 'Internal Error' : '', r.id);
      }
      return rows.length;
    })();
  }

  claim(owner: string, now: number, leaseMs: number, limit: number): ClaimedAttempt[] {
    // A token per claim, not per worker: a worker that re-claims an attempt whose lease ran out
    // while its first try was still running can only have the later outcome counted.
    const lease = `${owner}/${randomUUID()}`;
    return this.db.transaction(() => {
      const leased = this.s.lease.all(lease, now + leaseMs, now, limit) as { item_id: number; node_id: number; attempts: number }[];
      // An item has one attempt per node: read each item (and node) once per claim.
      const nodes = new Map<number, ReturnType<typeof toNode>>();
      const jobs = new Map<number, Record<string, unknown>>();
      return leased.map((l) => {
        let j = jobs.get(l.item_id);
        if (!j) jobs.set(l.item_id, (j = this.s.jobOf.get(l.item_id) as Record<string, unknown>));
        let node = nodes.get(l.node_id);
        if (!node) nodes.set(l.node_id, (node = toNode(this.s.nodeById.get(l.node_id))));
        return {
          itemId: l.item_id, nodeId: l.node_id, lease, attempts: l.attempts, taskId: String(j.task_id),
          objectType: j.object_type as SubmitType, objectPath: j.object_path as string, domain: j.domain as string,
          force: j.force === 1, withHeader: (j.with_header as string | null) ?? null, origin: (j.origin as string | null) ?? null, node,
        };
      });
    })();
  }

  reap(now: number): number {
    return this.s.reap.run(now).changes;
  }

  /** Counted through the partial indexes: leased and ready attempts, undispatched items. */
  stats(): { undispatched: number; pending: number; leased: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      undispatched: one('SELECT count(*) AS n FROM items WHERE nodes_total IS NULL'),
      pending: one("SELECT count(*) AS n FROM node_attempts WHERE state = 'pending' AND lease_owner IS NULL"),
      leased: one('SELECT count(*) AS n FROM node_attempts WHERE lease_owner IS NOT NULL'),
    };
  }

  renew(leases: string[], until: number): void {
    this.db.transaction(() => {
      for (const lease of leases) this.s.renew.run(until, lease);
    })();
  }

  record(now: number, results: AttemptResult[]): void {
    this.db.transaction(() => {
      const touched = new Set<number>();
      for (const r of results) {
        if (r.state === 'applied') {
          if (this.s.applied.run(now, r.itemId, r.nodeId, r.lease).changes) (this.s.countApplied.run(r.itemId), touched.add(r.itemId));
        } else if (r.state === 'retry') {
          this.s.retry.run(r.nextRunAt, r.error, r.itemId, r.nodeId, r.lease);
        } else if (this.s.failed.run(r.error, r.itemId, r.nodeId, r.lease).changes) {
          this.s.countFailed.run(r.description, r.itemId);
          touched.add(r.itemId);
        }
      }
      this.recount([...touched]);
    })();
  }

  /** Re-derive the status column of items whose node counts changed. */
  recount(itemIds: number[]): void {
    for (const id of itemIds) {
      const c = this.s.countsOf.get(id) as { nodes_total: number | null; nodes_applied: number; nodes_failed: number } | undefined;
      if (c) this.s.setStatus.run(deriveStatus({ total: c.nodes_total, applied: c.nodes_applied, failed: c.nodes_failed }), id);
    }
  }

  attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): NodeAttemptRow[] {
    if (taskIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT i.task_id, i.id AS item_id, i.object_path, a.state, a.attempts, a.last_error, a.applied_at,
                n.name, n.driver, n.node_group, a.node_id
           FROM items i JOIN node_attempts a ON a.item_id = i.id LEFT JOIN nodes n ON n.id = a.node_id
          WHERE i.task_id IN (${taskIds.map(() => '?').join(',')}) AND i.account_id = ? AND i.product = ? AND i.created_at >= ?
          ORDER BY i.task_id, i.id, a.node_id`,
      )
      .all(...taskIds.map(Number), accountId, product, from) as Record<string, unknown>[];
    return rows.map((r) => ({
      taskId: String(r.task_id), itemId: r.item_id as number, objectPath: r.object_path as string,
      node: (r.name as string | null) ?? `removed-node-${r.node_id}`, driver: (r.driver as string | null) ?? '', group: (r.node_group as string | null) ?? '',
      state: r.state as NodeAttemptRow['state'], attempts: r.attempts as number,
      lastError: (r.last_error as string | null) ?? null, appliedAt: (r.applied_at as number | null) ?? null,
    }));
  }
}
