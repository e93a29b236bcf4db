import type Database from 'better-sqlite3';
import { deriveStatus } from '../../domain/progress.js';
import type { Product } from '../../spec/types.js';
import { leaseToken } from '../lease-token.js';
import type { AttemptResult, CacheNode, ClaimedAttempt, NodeAttemptRow } from '../port.js';
import { validTaskIds } from '../task-ids.js';
import { toNode } from './fleet.js';
import { JOB_COLUMNS, JOB_FROM, toClaimed, type JobRow } from './jobs.js';
import { openItemOf } from './tasks.js';


/**
 * The execution queue on SQLite (DESIGN.md convention 5: queue state is data). Items are
 * dispatched into one attempt row per node in scope; workers lease due attempts, and outcomes
 * are recorded only while the lease is still theirs, so a reaped attempt is never counted twice.
 */
export class SqliteQueue {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      // With what a claim of the new attempts needs, so dispatch can lease them at once.
      undispatched: db.prepare(
        `SELECT ${JOB_COLUMNS}, t.area, d.node_group AS grp FROM ${JOB_FROM}
          WHERE i.nodes_total IS NULL ORDER BY i.id LIMIT ?`,
      ),
      nodesOf: db.prepare('SELECT * FROM nodes WHERE node_group = ? AND enabled = 1 ORDER BY id'),
      // Statements take id lists as JSON arrays: one statement per batch instead of one per
      // attempt (the per-statement cost was most of the engine's SQLite time, docs/benchmarks.md).
      insertAttempts: db.prepare(
        `INSERT OR IGNORE INTO node_attempts (item_id, node_id, state, attempts, next_run_at)
         SELECT i.value, n.value, 'pending', 0, ? FROM json_each(?) i, json_each(?) n`,
      ),
      // The same, leased to the dispatching worker (dispatchAndClaim); only rows really inserted come back.
      insertLeased: db.prepare(
        `INSERT OR IGNORE INTO node_attempts (item_id, node_id, state, attempts, next_run_at, lease_owner, lease_until)
         SELECT i.value, n.value, 'pending', 0, ?, ?, ? FROM json_each(?) i, json_each(?) n
         RETURNING item_id, node_id`,
      ),
      setScope: db.prepare('UPDATE items SET nodes_total = ?, status = ?, description = ? WHERE id IN (SELECT value FROM json_each(?))'),
      lease: db.prepare(
        `UPDATE node_attempts SET lease_owner = ?, lease_until = ?
          WHERE (item_id, node_id) IN (
            SELECT item_id, node_id FROM node_attempts
             WHERE state = 'pending' AND lease_owner IS NULL AND next_run_at <= ?
             ORDER BY next_run_at LIMIT ?)
          RETURNING item_id, node_id, attempts`,
      ),
      jobsOf: db.prepare(`SELECT ${JOB_COLUMNS} FROM ${JOB_FROM} WHERE i.id IN (SELECT value FROM json_each(?))`),
      nodesById: db.prepare('SELECT * FROM nodes WHERE id IN (SELECT value FROM json_each(?))'),
      // [item, node, lease, verified by] rows; an outcome counts only while the attempt is leased under it.
      applied: db.prepare(
        `UPDATE node_attempts SET state = 'applied', attempts = attempts + 1, applied_at = ?, last_error = NULL, lease_owner = NULL, lease_until = NULL,
                verified_by = r.verified_by
           FROM (SELECT value ->> 0 AS item_id, value ->> 1 AS node_id, value ->> 2 AS lease, value ->> 3 AS verified_by FROM json_each(?)) r
          WHERE node_attempts.item_id = r.item_id AND node_attempts.node_id = r.node_id
            AND node_attempts.state = 'pending' AND node_attempts.lease_owner = r.lease
          RETURNING node_attempts.item_id`,
      ),
      retry: db.prepare(
        'UPDATE node_attempts SET attempts = attempts + 1, next_run_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL WHERE item_id = ? AND node_id = ? AND state = \'pending\' AND lease_owner = ?',
      ),
      failed: db.prepare(
        "UPDATE node_attempts SET state = 'failed', attempts = attempts + 1, last_error = ?, verified_by = ?, lease_owner = NULL, lease_until = NULL WHERE item_id = ? AND node_id = ? AND state = 'pending' AND lease_owner = ?",
      ),
      // [item, applied, failed, description] per item: its counts move once per batch.
      addCounts: db.prepare(
        `UPDATE items SET nodes_applied = nodes_applied + r.applied, nodes_failed = nodes_failed + r.failed,
                description = CASE WHEN items.description = '' THEN coalesce(r.first_error, '') ELSE items.description END
           FROM (SELECT value ->> 0 AS id, value ->> 1 AS applied, value ->> 2 AS failed, value ->> 3 AS first_error FROM json_each(?)) r
          WHERE items.id = r.id
          RETURNING items.id, items.nodes_total, items.nodes_applied, items.nodes_failed, items.status`,
      ),
      countsOf: db.prepare('SELECT nodes_total, nodes_applied, nodes_failed, status FROM items WHERE id = ?'),
      // [item, status] pairs: one statement for a batch's status changes.
      setStatuses: db.prepare(
        `UPDATE items SET status = r.status FROM (SELECT value ->> 0 AS id, value ->> 1 AS status FROM json_each(?)) r WHERE items.id = r.id`,
      ),
      renew: db.prepare("UPDATE node_attempts SET lease_until = ? WHERE lease_owner = ? AND state = 'pending'"),
      reap: db.prepare('UPDATE node_attempts SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND lease_until < ?'),
      // The WaitForTasks probe: the webhook finish scan's test, on given tasks.
      openTasks: db.prepare(
        `SELECT count(*) AS n FROM tasks t
          WHERE t.id IN (SELECT value FROM json_each(?)) AND t.account_id = ? AND t.product = ? AND t.created_at >= ?
            AND ${openItemOf('t')}`,
      ),
    };
  }

  dispatch(now: number, limit: number): number {
    return this.dispatchAndClaim(now, limit).dispatched;
  }

  /**
   * Give up to `limit` undispatched items their per-node attempts. With `lease`, whole items'
   * attempts, up to `lease.max`, are leased to `lease.owner` in the same statement and returned,
   * which saves the claim that would lease them next; the rest wait for any worker's claim.
   */
  dispatchAndClaim(now: number, limit: number, lease?: { owner: string; leaseMs: number; max: number }): { dispatched: number; claimed: ClaimedAttempt[] } {
    const token = lease && leaseToken(lease.owner);
    return this.db.transaction(() => {
      const rows = this.s.undispatched.all(limit) as (JobRow & { area: string | null; grp: string | null })[];
      const groups = new Map<string, CacheNode[]>();
      // Items with the same scope (group, and Area for preloads) get their attempts in one statement.
      const scopes = new Map<string, { nodes: CacheNode[]; items: JobRow[] }>();
      for (const r of rows) {
        const group = r.grp ?? 'default';
        let nodes = groups.get(group);
        if (!nodes) groups.set(group, (nodes = this.s.nodesOf.all(group).map(toNode)));
        const key = `${group}\0${r.area ?? ''}`;
        let scope = scopes.get(key);
        // A preload with an Area warms only that area's nodes; everything else goes to the whole group.
        if (!scope) scopes.set(key, (scope = { nodes: nodes.filter((n) => !r.area || n.area === r.area), items: [] }));
        scope.items.push(r);
      }
      const claimed: ClaimedAttempt[] = [];
      let room = lease?.max ?? 0;
      for (const { nodes, items } of scopes.values()) {
        const ids = JSON.stringify(items.map((i) => i.id));
        const nodeIds = JSON.stringify(nodes.map((n) => n.id));
        // Whole items are leased while they fit in the room; an item is never split.
        const take = nodes.length === 0 ? 0 : Math.min(items.length, Math.floor(room / nodes.length));
        if (take > 0) {
          room -= take * nodes.length;
          const jobs = new Map(items.slice(0, take).map((i) => [i.id, i]));
          const byId = new Map(nodes.map((n) => [n.id, n]));
          const inserted = this.s.insertLeased.all(now, token, now + lease!.leaseMs, JSON.stringify([...jobs.keys()]), nodeIds) as { item_id: number; node_id: number }[];
          for (const a of inserted) claimed.push(toClaimed(jobs.get(a.item_id)!, byId.get(a.node_id)!, token!, 0));
        }
        if (nodes.length > 0 && take < items.length) this.s.insertAttempts.run(now, JSON.stringify(items.slice(take).map((i) => i.id)), nodeIds);
        const status = deriveStatus({ total: nodes.length, applied: 0, failed: 0 });
        this.s.setScope.run(nodes.length, status, nodes.length === 0 ? 'Internal Error' : '', ids);
      }
      return { dispatched: rows.length, claimed };
    })();
  }

  claim(owner: string, now: number, leaseMs: number, limit: number): ClaimedAttempt[] {
    // A token per claim, not per worker: a worker that re-claims an attempt whose lease ran out
    // while its first try was still running can only have the later outcome counted.
    const lease = leaseToken(owner);
    return this.db.transaction(() => {
      const leased = this.s.lease.all(lease, now + leaseMs, now, limit) as { item_id: number; node_id: number; attempts: number }[];
      if (leased.length === 0) return [];
      // Every item and node once per claim, in one statement each.
      const jobs = new Map<number, JobRow>();
      for (const j of this.s.jobsOf.all(JSON.stringify([...new Set(leased.map((l) => l.item_id))])) as JobRow[]) jobs.set(j.id, j);
      const nodes = new Map<number, CacheNode>();
      for (const n of this.s.nodesById.all(JSON.stringify([...new Set(leased.map((l) => l.node_id))]))) nodes.set((n as { id: number }).id, toNode(n));
      const out: ClaimedAttempt[] = [];
      for (const l of leased) {
        const j = jobs.get(l.item_id);
        const node = nodes.get(l.node_id);
        // An attempt whose item or node is gone (retention, node removal) is left to the reaper.
        if (!j || !node) continue;
        out.push(toClaimed(j, node, lease, l.attempts));
      }
      return out;
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
      // Per item: how many of its nodes applied or failed in this batch, and the first failure's description.
      const counts = new Map<number, [number, number, number, string | null]>();
      const count = (itemId: number) => {
        let c = counts.get(itemId);
        if (!c) counts.set(itemId, (c = [itemId, 0, 0, null]));
        return c;
      };
      const applied = results.filter((r) => r.state === 'applied');
      if (applied.length > 0) {
        const done = this.s.applied.all(now, JSON.stringify(applied.map((r) => [r.itemId, r.nodeId, r.lease, r.verifiedBy ?? null]))) as { item_id: number }[];
        for (const d of done) count(d.item_id)[1]++;
      }
      for (const r of results) {
        if (r.state === 'retry') this.s.retry.run(r.nextRunAt, r.error, r.itemId, r.nodeId, r.lease);
        else if (r.state === 'failed' && this.s.failed.run(r.error, r.verifiedBy ?? null, r.itemId, r.nodeId, r.lease).changes) {
          const c = count(r.itemId);
          c[2]++;
          c[3] ??= r.description;
        }
      }
      if (counts.size === 0) return;
      const rows = this.s.addCounts.all(JSON.stringify([...counts.values()])) as (CountsRow & { id: number })[];
      this.setStatuses(rows);
    })();
  }

  /** Re-derive the status column of items whose node counts changed. */
  recount(itemIds: number[]): void {
    const rows: (CountsRow & { id: number })[] = [];
    for (const id of itemIds) {
      const c = this.s.countsOf.get(id) as CountsRow | undefined;
      if (c) rows.push({ id, ...c });
    }
    this.setStatuses(rows);
  }

  /** Write status only where it changes: it is indexed, and the per-hour counts follow each change. */
  private setStatuses(rows: (CountsRow & { id: number })[]): void {
    const changed: [number, string][] = [];
    for (const c of rows) {
      const status = deriveStatus({ total: c.nodes_total, applied: c.nodes_applied, failed: c.nodes_failed });
      if (status !== c.status) changed.push([c.id, status]);
    }
    if (changed.length > 0) this.s.setStatuses.run(JSON.stringify(changed));
  }

  /** How many of these tasks (the account's, created since `from`) still have an item Pending or Refreshing. */
  openTasks(accountId: number, product: Product, taskIds: string[], from: number): number {
    const ids = validTaskIds(taskIds).map(Number);
    if (ids.length === 0) return 0;
    return (this.s.openTasks.get(JSON.stringify(ids), accountId, product, from) as { n: number }).n;
  }

  attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): NodeAttemptRow[] {
    if (taskIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT i.task_id, i.id AS item_id, i.object_path, a.state, a.attempts, a.last_error, a.applied_at, a.verified_by,
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
      verifiedBy: (r.verified_by as NodeAttemptRow['verifiedBy']) ?? null,
    }));
  }
}

interface CountsRow {
  nodes_total: number | null;
  nodes_applied: number;
  nodes_failed: number;
  status: string;
}
