import type { SubmitType } from '../../domain/object-path.js';
import { nodesInScope } from '../../domain/records.js';
import { leaseToken } from '../lease-token.js';
import type { AttemptPhase, AttemptQueue, AttemptResult, CacheNode, ClaimedAttempt } from '../port.js';
import { splitVerifyUrls } from '../verify-urls.js';
import { adjustCounts, dispatched } from './progress.js';
import { toNode, type Db, type Row, type Sql } from './rows.js';

/** Lease new attempts of whole items, up to `max`, to `owner` (see PgQueue.dispatchIn for `onlyLeased`). */
export interface DispatchLease {
  owner: string;
  leaseMs: number;
  max: number;
  onlyLeased?: boolean;
}

/**
 * The execution queue on PostgreSQL (docs/design.md, "Submits and the worker": queue state is data), shared by
 * workers in many processes. Dispatch and claim take rows with FOR UPDATE SKIP LOCKED, so two
 * workers never take the same item or attempt and never wait on each other; outcomes count only
 * while the attempt is still leased under the caller's token, as in the SQLite queue.
 *
 * Attempts carry their item's created_at (the partition key of both tables), so every join from
 * an attempt to its item names one day partition.
 */
export class PgQueue implements AttemptQueue {
  constructor(private readonly sql: Sql) {}

  /**
   * Give up to `limit` undispatched items their per-node attempts. Whole items' attempts, up to
   * `max`, are inserted leased to `owner` and returned (the claim they would need next); the
   * rest wait for any worker's claim.
   */
  async dispatchAndClaim(owner: string, now: number, leaseMs: number, limit: number, max: number): Promise<{ dispatched: number; claimed: ClaimedAttempt[] }> {
    return this.sql.begin((tx) => this.dispatchIn(tx, now, limit, { owner, leaseMs, max }));
  }

  /**
   * dispatch inside the caller's transaction (a submit's, for a worker of this process). With
   * `lease.onlyLeased`, dispatch stops at the first item that does not fit in the room: the
   * rest wait as they are, and a submit never writes attempts it will not run itself. The nodes
   * read are key-share locked until the commit, so a node removed meanwhile (fleet.ts takes its
   * row FOR UPDATE first) either is not read or has its new attempts removed with it.
   */
  async dispatchIn(tx: Db, now: number, limit: number, lease?: DispatchLease): Promise<{ dispatched: number; claimed: ClaimedAttempt[] }> {
    if (lease?.onlyLeased) {
      // First come, first served: attempts due without a worker (retries, a big task's overflow,
      // a dead worker's) are claimed before new items are leased past them.
      const [due] = await tx`
        SELECT 1 FROM node_attempts WHERE state = 'pending' AND lease_owner IS NULL AND next_run_at <= ${now} LIMIT 1`;
      if (due) return { dispatched: 0, claimed: [] };
    }
    const token = lease && leaseToken(lease.owner);
    const rows = await tx<(Row & { id: number; created_at: number; area: string | null; grp: string | null; preload_after: boolean })[]>`
      SELECT i.id, i.created_at, t.area, d.node_group AS grp, t.preload_after,
             i.task_id::text AS task_id, i.object_type, i.object_path, i.domain, t.force, t.with_header, t.verify_urls, d.origin
        FROM items i JOIN tasks t ON t.id = i.task_id LEFT JOIN domains d ON d.name = i.domain
       WHERE i.nodes_total IS NULL ORDER BY i.id LIMIT ${limit}
         FOR UPDATE OF i SKIP LOCKED`;
    if (rows.length === 0) return { dispatched: 0, claimed: [] };
    const groups = [...new Set(rows.map((r) => r.grp ?? 'default'))];
    const nodes = (await tx<Row[]>`
      SELECT id, name, driver, address, node_group, area, enabled, options, created_at
        FROM nodes WHERE node_group = ANY(${groups}::text[]) AND enabled ORDER BY id
         FOR KEY SHARE`).map(toNode);
    // Per attempt: item, its created_at, node and first phase (purge-then-warm items start with the purge).
    const plain = { item: [] as number[], created: [] as number[], node: [] as number[], phase: [] as (string | null)[] };
    const leased = { item: [] as number[], created: [] as number[], node: [] as number[], phase: [] as (string | null)[] };
    const scope = { id: [] as number[], created: [] as number[], total: [] as number[] };
    let room = lease?.max ?? 0;
    for (const r of rows) {
      const inScope = nodesInScope(nodes, r.grp ?? 'default', r.area);
      // Whole items are leased while they fit in the room; an item is never split.
      const into = inScope.length > 0 && inScope.length <= room ? leased : plain;
      if (into === plain && lease?.onlyLeased) break;
      if (into === leased) room -= inScope.length;
      const phase = r.preload_after ? 'purge' : null;
      for (const n of inScope) (into.item.push(r.id), into.created.push(r.created_at), into.node.push(n.id), into.phase.push(phase));
      scope.id.push(r.id);
      scope.created.push(r.created_at);
      scope.total.push(inScope.length);
    }
    if (plain.item.length > 0) {
      await tx`
        INSERT INTO node_attempts (item_id, item_created_at, node_id, state, attempts, next_run_at, phase)
        SELECT i, c, n, 'pending', 0, ${now}, p
          FROM unnest(${plain.item}::bigint[], ${plain.created}::bigint[], ${plain.node}::int[], ${plain.phase}::text[]) AS u(i, c, n, p)
        ON CONFLICT DO NOTHING`;
    }
    const claimed: ClaimedAttempt[] = [];
    if (leased.item.length > 0) {
      const inserted = await tx<{ item_id: number; node_id: number; phase: AttemptPhase | null }[]>`
        INSERT INTO node_attempts (item_id, item_created_at, node_id, state, attempts, next_run_at, lease_owner, lease_until, phase)
        SELECT i, c, n, 'pending', 0, ${now}, ${token!}, ${now + lease!.leaseMs}, p
          FROM unnest(${leased.item}::bigint[], ${leased.created}::bigint[], ${leased.node}::int[], ${leased.phase}::text[]) AS u(i, c, n, p)
        ON CONFLICT DO NOTHING
        RETURNING item_id, node_id, phase`;
      const jobs = new Map(rows.map((r) => [Number(r.id), r]));
      const byId = new Map(nodes.map((n) => [n.id, n]));
      for (const a of inserted) claimed.push(toClaimed(jobs.get(Number(a.item_id))!, byId.get(a.node_id)!, token!, 0, a.phase));
    }
    if (scope.id.length === 0) return { dispatched: 0, claimed };
    await dispatched(tx, scope.id, scope.created, scope.total);
    return { dispatched: scope.id.length, claimed };
  }

  async claimAttempts(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAttempt[]> {
    // A token per claim, not per worker: a worker that re-claims an attempt whose lease ran out
    // while its first try was still running can only have the later outcome counted.
    const lease = leaseToken(owner);
    // One statement: lease the due attempts nobody else is taking right now, then read what the
    // drivers need. An attempt whose item is gone is not returned (retention drops attempts first).
    const rows = await this.sql<Record<string, unknown>[]>`
      WITH due AS (
        SELECT item_id, node_id, item_created_at FROM node_attempts
         WHERE state = 'pending' AND lease_owner IS NULL AND next_run_at <= ${now}
         ORDER BY next_run_at LIMIT ${limit}
           FOR UPDATE SKIP LOCKED
      ), leased AS (
        UPDATE node_attempts a SET lease_owner = ${lease}, lease_until = ${now + leaseMs}
          FROM due
         WHERE a.item_id = due.item_id AND a.node_id = due.node_id AND a.item_created_at = due.item_created_at
        RETURNING a.item_id, a.item_created_at, a.node_id, a.attempts, a.next_run_at, a.phase
      )
      SELECT l.item_id, l.node_id, l.attempts, l.phase, i.task_id::text AS task_id, i.object_type, i.object_path, i.domain,
             t.force, t.with_header, t.verify_urls, d.origin,
             n.name, n.driver, n.address, n.node_group, n.area, n.enabled, n.options, n.created_at
        FROM leased l
        JOIN items i ON i.id = l.item_id AND i.created_at = l.item_created_at
        JOIN tasks t ON t.id = i.task_id
        JOIN nodes n ON n.id = l.node_id
        LEFT JOIN domains d ON d.name = i.domain
       ORDER BY l.next_run_at, l.item_id, l.node_id`;
    return rows.map((j) => toClaimed({ ...j, id: j.item_id }, toNode({ ...j, id: j.node_id }), lease, j.attempts as number, j.phase as AttemptPhase | null));
  }

  async reapLeases(now: number): Promise<number> {
    const res = await this.sql`UPDATE node_attempts SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND lease_until < ${now}`;
    return res.count;
  }

  async renewLeases(leases: string[], until: number): Promise<void> {
    if (leases.length === 0) return;
    await this.sql`UPDATE node_attempts SET lease_until = ${until} WHERE lease_owner = ANY(${leases}::text[]) AND state = 'pending'`;
  }

  async recordOutcomes(now: number, results: AttemptResult[]): Promise<void> {
    if (results.length === 0) return;
    const col = <T>(f: (r: AttemptResult) => T) => results.map(f);
    await this.sql.begin(async (tx) => {
      // A purge-then-warm attempt's purge recorded applied does not apply the item on the node:
      // the row becomes its preload, unleased and due at once, with attempts counted afresh
      // (every SET expression reads the row as it was; verified_by says how the purge was proved
      // until the preload's replaces it). Only rows now applied or failed count.
      const done = await tx<{ item_id: number; item_created_at: number; state: string; description: string | null }[]>`
        UPDATE node_attempts a SET
               state = CASE WHEN r.state = 'retry' OR (r.state = 'applied' AND a.phase = 'purge') THEN 'pending' ELSE r.state END,
               attempts = CASE WHEN r.state = 'applied' AND a.phase = 'purge' THEN 0 ELSE a.attempts + 1 END,
               -- when the node finished: applied, or failed for good (NodeAttemptRow.finishedAt)
               applied_at = CASE WHEN r.state = 'applied' AND a.phase = 'purge' THEN NULL
                                 WHEN r.state IN ('applied', 'failed') THEN ${now}::bigint ELSE a.applied_at END,
               purged_at = CASE WHEN r.state = 'applied' AND a.phase = 'purge' THEN ${now}::bigint ELSE a.purged_at END,
               last_error = CASE WHEN r.state = 'applied' THEN NULL ELSE r.error END,
               verified_by = CASE WHEN r.state = 'retry' THEN a.verified_by ELSE r.verified_by END,
               next_run_at = CASE WHEN r.state = 'retry' THEN r.next_run_at
                                  WHEN r.state = 'applied' AND a.phase = 'purge' THEN ${now}::bigint ELSE a.next_run_at END,
               phase = CASE WHEN r.state = 'applied' AND a.phase = 'purge' THEN 'preload' ELSE a.phase END,
               lease_owner = NULL, lease_until = NULL
          FROM unnest(${col((r) => r.itemId)}::bigint[], ${col((r) => r.nodeId)}::int[], ${col((r) => r.lease)}::text[],
                      ${col((r) => r.state)}::text[], ${col((r) => (r.state === 'applied' ? null : r.error))}::text[],
                      ${col((r) => (r.state === 'retry' ? r.nextRunAt : null))}::bigint[],
                      ${col((r) => (r.state === 'failed' ? r.description : null))}::text[],
                      ${col((r) => (r.state === 'retry' ? null : (r.verifiedBy ?? null)))}::text[])
               AS r(item_id, node_id, lease, state, error, next_run_at, description, verified_by)
         WHERE a.item_id = r.item_id AND a.node_id = r.node_id AND a.state = 'pending' AND a.lease_owner = r.lease
        RETURNING a.item_id, a.item_created_at, a.state, r.description`;
      const byItem = new Map<number, { created: number; applied: number; failed: number; description: string | null }>();
      for (const d of done) {
        if (d.state === 'pending') continue;
        const c = byItem.get(d.item_id) ?? { created: d.item_created_at, applied: 0, failed: 0, description: null };
        if (d.state === 'applied') c.applied++;
        else (c.failed++, (c.description ??= d.description));
        byItem.set(d.item_id, c);
      }
      await adjustCounts(tx, [...byItem].map(([id, c]) => ({ id, ...c, total: 0 })));
    });
  }
}

/** A leased attempt with what its driver needs: `j` is an item row with its task's options and its domain's origin. */
function toClaimed(j: Row, node: CacheNode, lease: string, attempts: number, phase: AttemptPhase | null): ClaimedAttempt {
  const c: ClaimedAttempt = {
    itemId: Number(j.id), nodeId: node.id, lease, attempts, taskId: String(j.task_id),
    objectType: j.object_type as SubmitType, objectPath: j.object_path as string, domain: j.domain as string,
    force: j.force as boolean, withHeader: (j.with_header as string | null) ?? null, verifyUrls: splitVerifyUrls(j.verify_urls as string | null),
    origin: (j.origin as string | null) ?? null, node,
  };
  if (phase) c.phase = phase;
  return c;
}
