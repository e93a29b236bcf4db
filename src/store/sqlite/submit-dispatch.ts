import type Database from 'better-sqlite3';
import { nodesInScope } from '../../domain/records.js';
import type { CacheNode, ClaimedAttempt, LeaseRequest, NewTask, SubmitBatch } from '../port.js';
import { toNode } from './fleet.js';
import { firstPhase, toClaimed, type JobRow } from './jobs.js';
import { joinVerifyUrls } from '../verify-urls.js';

/** A task's items that go to a local worker at submit: the nodes in scope and how many items fit. */
export interface SubmitScope {
  nodes: CacheNode[];
  /** The first `take` items of the task are dispatched and leased now; the rest wait for dispatch. */
  take: number;
  origin: string | null;
}

/**
 * Dispatch at submit, for a worker in the submitting process (SubmitBatch.lease): the first
 * items of a new task that fit in the worker's room are inserted already dispatched (with their
 * node count; still Pending, as no node has confirmed them) and their per-node attempts inserted
 * leased to the worker, in the submit's own transaction. This is what the worker's dispatch
 * would do a moment later, minus its wake-up, its read of the new items, its update of them and
 * a transaction: ~1 ms of the API process's CPU for a 100-URL task (bench/store-task.ts). The
 * submit returns the leased attempts; the hand-off (worker/hand-off.ts) gives them to the worker
 * after the commit.
 *
 * Items that do not fit, or that arrive while older work still waits (items not dispatched,
 * attempts due without a worker: first come, first served), take the usual path.
 */
export class SubmitDispatch {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      backlog: db.prepare('SELECT 1 FROM items WHERE nodes_total IS NULL LIMIT 1'),
      // Through node_attempts_ready: retries, a big task's overflow, a dead worker's attempts.
      due: db.prepare("SELECT 1 FROM node_attempts WHERE state = 'pending' AND lease_owner IS NULL AND next_run_at <= ? LIMIT 1"),
      domain: db.prepare('SELECT node_group, origin FROM domains WHERE name = ?'),
      nodesOf: db.prepare('SELECT * FROM nodes WHERE node_group = ? AND enabled = 1 ORDER BY id'),
      // Fresh items: every (item, node) pair is new, so nothing to ignore and nothing to return.
      insertLeased: db.prepare(
        `INSERT INTO node_attempts (item_id, node_id, state, attempts, next_run_at, lease_owner, lease_until, phase)
         SELECT i.value, n.value, 'pending', 0, ?, ?, ?, ? FROM json_each(?) i, json_each(?) n`,
      ),
    };
  }

  /**
   * Whether new items may go to the worker at once: no older item waits for dispatch and no
   * attempt is due without a worker (first come, first served; the worker claims those first).
   */
  open(now: number): boolean {
    return this.s.backlog.get() === undefined && this.s.due.get(now) === undefined;
  }

  /** How many of this task's items fit in `room` attempts (whole items only), and on which nodes. */
  scope(task: NewTask, room: number): SubmitScope | undefined {
    const domain = this.s.domain.get(task.domain) as { node_group: string; origin: string | null } | undefined;
    if (!domain) return undefined;
    const nodes = nodesInScope(this.s.nodesOf.all(domain.node_group).map(toNode), domain.node_group, task.area);
    // No node in scope: the worker's dispatch marks such items Failed, with the reason.
    if (nodes.length === 0) return undefined;
    const take = Math.min(task.paths.length, Math.floor(room / nodes.length));
    return take > 0 ? { nodes, take, origin: domain.origin } : undefined;
  }

  /**
   * Lease the attempts of the task's first items, just inserted as dispatched, and say what the
   * worker is to run.
   */
  lease(batch: SubmitBatch, task: NewTask, taskId: number, itemIds: number[], scope: SubmitScope, lease: LeaseRequest, token: string): ClaimedAttempt[] {
    const now = batch.createdAt;
    const phase = firstPhase({ preload_after: task.preloadAfter ? 1 : 0 });
    this.s.insertLeased.run(now, token, now + lease.leaseMs, phase, JSON.stringify(itemIds), JSON.stringify(scope.nodes.map((n) => n.id)));
    const claimed: ClaimedAttempt[] = [];
    for (let i = 0; i < itemIds.length; i++) {
      // The row the worker's dispatch would have read for this item.
      const job: JobRow = {
        id: itemIds[i], task_id: taskId, object_type: task.objectType, object_path: task.paths[i], domain: task.domain,
        force: task.force ? 1 : 0, with_header: task.withHeader, verify_urls: joinVerifyUrls(task.verifyUrls), origin: scope.origin, preload_after: task.preloadAfter ? 1 : 0,
      };
      for (const node of scope.nodes) claimed.push(toClaimed(job, node, token, 0, phase));
    }
    return claimed;
  }

}
