import type Database from 'better-sqlite3';
import { nodesInScope } from '../../domain/records.js';
import { leaseToken } from '../lease-token.js';
import type { AttemptPhase, AttemptQueue, AttemptResult, CacheNode, ClaimedAttempt } from '../port.js';
import { toNode } from './fleet.js';
import { firstPhase, JOB_COLUMNS, JOB_FROM, toClaimed, type JobRow } from './jobs.js';
import type { SqliteProgress } from './progress.js';

/**
 * The execution queue on SQLite (docs/design.md, "Submits and the worker": queue state is data). Items are
 * dispatched into one attempt row per node in scope; workers lease due attempts, and outcomes
 * are recorded only while the lease is still theirs, so a reaped attempt is never counted twice.
 */
export class SqliteQueue implements AttemptQueue {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly progress: SqliteProgress,
  ) {
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
        `INSERT OR IGNORE INTO node_attempts (item_id, node_id, state, attempts, next_run_at, phase)
         SELECT i.value, n.value, 'pending', 0, ?, ? FROM json_each(?) i, json_each(?) n`,
      ),
      // The same, leased to the dispatching worker (dispatchAndClaim); only rows really inserted come back.
      insertLeased: db.prepare(
        `INSERT OR IGNORE INTO node_attempts (item_id, node_id, state, attempts, next_run_at, lease_owner, lease_until, phase)
         SELECT i.value, n.value, 'pending', 0, ?, ?, ?, ? FROM json_each(?) i, json_each(?) n
         RETURNING item_id, node_id`,
      ),
      lease: db.prepare(
        `UPDATE node_attempts SET lease_owner = ?, lease_until = ?
          WHERE (item_id, node_id) IN (
            SELECT item_id, node_id FROM node_attempts
             WHERE state = 'pending' AND lease_owner IS NULL AND next_run_at <= ?
             ORDER BY next_run_at LIMIT ?)
          RETURNING item_id, node_id, attempts, phase`,
      ),
      jobsOf: db.prepare(`SELECT ${JOB_COLUMNS} FROM ${JOB_FROM} WHERE i.id IN (SELECT value FROM json_each(?))`),
      nodesById: db.prepare('SELECT * FROM nodes WHERE id IN (SELECT value FROM json_each(?))'),
      // [item, node, lease, verified by] rows; an outcome counts only while the attempt is leased under it.
      // A purge-then-warm attempt's purge does not apply the item on the node: the row becomes
      // its preload, unleased and due at once, with attempts counted afresh (every SET reads the
      // row as it was; verified_by says how the purge was proved until the preload's replaces it).
      // Only rows now 'applied' count for their item.
      applied: db.prepare(
        `UPDATE node_attempts SET
                state = CASE WHEN phase = 'purge' THEN 'pending' ELSE 'applied' END,
                attempts = CASE WHEN phase = 'purge' THEN 0 ELSE attempts + 1 END,
                applied_at = CASE WHEN phase = 'purge' THEN NULL ELSE @now END,
                purged_at = CASE WHEN phase = 'purge' THEN @now ELSE purged_at END,
                next_run_at = CASE WHEN phase = 'purge' THEN @now ELSE next_run_at END,
                phase = CASE WHEN phase = 'purge' THEN 'preload' ELSE phase END,
                last_error = NULL, lease_owner = NULL, lease_until = NULL, verified_by = r.verified_by
           FROM (SELECT value ->> 0 AS item_id, value ->> 1 AS node_id, value ->> 2 AS lease, value ->> 3 AS verified_by FROM json_each(@results)) r
          WHERE node_attempts.item_id = r.item_id AND node_attempts.node_id = r.node_id
            AND node_attempts.state = 'pending' AND node_attempts.lease_owner = r.lease
          RETURNING node_attempts.item_id, node_attempts.state`,
      ),
      retry: db.prepare(
        'UPDATE node_attempts SET attempts = attempts + 1, next_run_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL WHERE item_id = ? AND node_id = ? AND state = \'pending\' AND lease_owner = ?',
      ),
      // applied_at is when the node finished: applied, or failed for good (NodeAttemptRow.finishedAt).
      failed: db.prepare(
        "UPDATE node_attempts SET state = 'failed', attempts = attempts + 1, applied_at = ?, last_error = ?, verified_by = ?, lease_owner = NULL, lease_until = NULL WHERE item_id = ? AND node_id = ? AND state = 'pending' AND lease_owner = ?",
      ),
      renew: db.prepare("UPDATE node_attempts SET lease_until = ? WHERE lease_owner = ? AND state = 'pending'"),
      reap: db.prepare('UPDATE node_attempts SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND lease_until < ?'),
    };
  }

  /**
   * Give up to `limit` undispatched items their per-node attempts. Whole items' attempts, up to
   * `max`, are leased to `owner` in the same statement and returned, which saves the claim that
   * would lease them next; the rest wait for any worker's claim.
   */
  async dispatchAndClaim(owner: string, now: number, leaseMs: number, limit: number, max: number): Promise<{ dispatched: number; claimed: ClaimedAttempt[] }> {
    const token = leaseToken(owner);
    return this.db.transaction(() => {
      const rows = this.s.undispatched.all(limit) as (JobRow & { area: string | null; grp: string | null })[];
      const groups = new Map<string, CacheNode[]>();
      // Items with the same scope (group, and Area for preloads) and first phase get their attempts in one statement.
      const scopes = new Map<string, { nodes: CacheNode[]; items: JobRow[]; phase: AttemptPhase | null }>();
      for (const r of rows) {
        const group = r.grp ?? 'default';
        let nodes = groups.get(group);
        if (!nodes) groups.set(group, (nodes = this.s.nodesOf.all(group).map(toNode)));
        const phase = firstPhase(r);
        const key = `${group}\0${r.area ?? ''}\0${phase ?? ''}`;
        let scope = scopes.get(key);
        if (!scope) scopes.set(key, (scope = { nodes: nodesInScope(nodes, group, r.area), items: [], phase }));
        scope.items.push(r);
      }
      const claimed: ClaimedAttempt[] = [];
      let room = max;
      for (const { nodes, items, phase } of scopes.values()) {
        const ids = JSON.stringify(items.map((i) => i.id));
        const nodeIds = JSON.stringify(nodes.map((n) => n.id));
        // Whole items are leased while they fit in the room; an item is never split.
        const take = nodes.length === 0 ? 0 : Math.min(items.length, Math.floor(room / nodes.length));
        if (take > 0) {
          room -= take * nodes.length;
          const jobs = new Map(items.slice(0, take).map((i) => [i.id, i]));
          const byId = new Map(nodes.map((n) => [n.id, n]));
          const inserted = this.s.insertLeased.all(now, token, now + leaseMs, phase, JSON.stringify([...jobs.keys()]), nodeIds) as { item_id: number; node_id: number }[];
          for (const a of inserted) claimed.push(toClaimed(jobs.get(a.item_id)!, byId.get(a.node_id)!, token, 0, phase));
        }
        if (nodes.length > 0 && take < items.length) this.s.insertAttempts.run(now, phase, JSON.stringify(items.slice(take).map((i) => i.id)), nodeIds);
        this.progress.dispatched(ids, nodes.length);
      }
      return { dispatched: rows.length, claimed };
    })();
  }

  async claimAttempts(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAttempt[]> {
    // A token per claim, not per worker: a worker that re-claims an attempt whose lease ran out
    // while its first try was still running can only have the later outcome counted.
    const lease = leaseToken(owner);
    return this.db.transaction(() => {
      const leased = this.s.lease.all(lease, now + leaseMs, now, limit) as { item_id: number; node_id: number; attempts: number; phase: AttemptPhase | null }[];
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
        out.push(toClaimed(j, node, lease, l.attempts, l.phase));
      }
      return out;
    })();
  }

  async reapLeases(now: number): Promise<number> {
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

  async renewLeases(leases: string[], until: number): Promise<void> {
    if (leases.length === 0) return;
    this.db.transaction(() => {
      for (const lease of leases) this.s.renew.run(until, lease);
    })();
  }

  async recordOutcomes(now: number, results: AttemptResult[]): Promise<void> {
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
        const done = this.s.applied.all({ now, results: JSON.stringify(applied.map((r) => [r.itemId, r.nodeId, r.lease, r.verifiedBy ?? null])) }) as { item_id: number; state: string }[];
        for (const d of done) if (d.state === 'applied') count(d.item_id)[1]++;
      }
      for (const r of results) {
        if (r.state === 'retry') this.s.retry.run(r.nextRunAt, r.error, r.itemId, r.nodeId, r.lease);
        else if (r.state === 'failed' && this.s.failed.run(now, r.error, r.verifiedBy ?? null, r.itemId, r.nodeId, r.lease).changes) {
          const c = count(r.itemId);
          c[2]++;
          c[3] ??= r.description;
        }
      }
      this.progress.counted([...counts.values()]);
    })();
  }
}
