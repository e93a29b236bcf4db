import type Database from 'better-sqlite3';
import type { CacheNode, ClaimedAttempt, LocalTaker, NewTask, SubmitBatch } from '../port.js';
import { toNode } from './fleet.js';
import { toClaimed, type JobRow } from './jobs.js';

/** Items of a task handed to the worker before the rest of the task is written (see parts). */
const FIRST_PART = 16;

/** A task's items that go to a local worker at submit: the nodes in scope and how many items fit. */
export interface SubmitScope {
  nodes: CacheNode[];
  /** The first `take` items of the task are dispatched and leased now; the rest wait for dispatch. */
  take: number;
  origin: string | null;
}

/**
 * Dispatch at submit, for a worker in this process (LocalTaker): the first items of a new task
 * that fit in the worker's room are inserted already dispatched (with their node count; still
 * Pending, as no node has confirmed them) and their per-node attempts inserted leased to the
 * worker, in the submit's own transaction. This is what the worker's dispatch would do a moment
 * later, minus its wake-up, its read of the new items, its update of them and a transaction:
 * ~1 ms of the API process's CPU for a 100-URL task (bench/store-task.ts).
 *
 * The worker gets the attempts as they are written, not after the commit: the first 16 items'
 * purges leave while the rest of a big task is written (~1 ms sooner for 100 URLs). Outcomes
 * are recorded on this same thread, so only after the commit. Should the commit fail (a disk
 * error: the quota checks come first), the caller gets an error and nothing is stored, but
 * purges already sent stand; they are idempotent and the client's retry sends them again.
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
        `INSERT INTO node_attempts (item_id, node_id, state, attempts, next_run_at, lease_owner, lease_until)
         SELECT i.value, n.value, 'pending', 0, ?, ?, ? FROM json_each(?) i, json_each(?) n`,
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
    // A preload with an Area warms only that area's nodes; everything else goes to the whole group.
    const nodes = this.s.nodesOf.all(domain.node_group).map(toNode).filter((n) => !task.area || n.area === task.area);
    // No node in scope: the worker's dispatch marks such items Failed, with the reason.
    if (nodes.length === 0) return undefined;
    const take = Math.min(task.paths.length, Math.floor(room / nodes.length));
    return take > 0 ? { nodes, take, origin: domain.origin } : undefined;
  }

  /**
   * Lease the attempts of items just inserted as dispatched (the task's paths from `from` on),
   * and say what the worker is to run.
   */
  lease(batch: SubmitBatch, task: NewTask, taskId: number, from: number, itemIds: number[], scope: SubmitScope, taker: LocalTaker, token: string): ClaimedAttempt[] {
    const now = batch.createdAt;
    this.s.insertLeased.run(now, token, now + taker.leaseMs, JSON.stringify(itemIds), JSON.stringify(scope.nodes.map((n) => n.id)));
    const claimed: ClaimedAttempt[] = [];
    for (let i = 0; i < itemIds.length; i++) {
      // The row the worker's dispatch would have read for this item.
      const job: JobRow = {
        id: itemIds[i], task_id: taskId, object_type: task.objectType, object_path: task.paths[from + i], domain: task.domain,
        force: task.force ? 1 : 0, with_header: task.withHeader, origin: scope.origin,
      };
      for (const node of scope.nodes) claimed.push(toClaimed(job, node, token, 0));
    }
    return claimed;
  }

  /**
   * The dispatched items of a task in two parts, [from, to): the first FIRST_PART go to the
   * worker before the rest is even written, so the first purges leave while the transaction
   * goes on.
   */
  static parts(take: number): [number, number][] {
    if (take === 0) return [];
    return take <= FIRST_PART ? [[0, take]] : [[0, FIRST_PART], [FIRST_PART, take]];
  }
}
