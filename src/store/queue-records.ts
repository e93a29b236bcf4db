import type { SubmitType } from '../domain/object-path.js';
import type { VerifiedBy } from '../edges/driver.js';

/**
 * The fleet and execution-queue records of the TaskStore port (port.ts re-exports them): cache
 * nodes, the per-node attempts workers lease and report on, and the worker a submit hands new
 * attempts to.
 */

/** One cache server of the fleet. */
export interface CacheNode {
  id: number;
  name: string;
  /** Driver name: simulated, varnish, nginx, ats, squid. */
  driver: string;
  address: string;
  group: string;
  /** Which PushObjectCache `Area` the node belongs to. */
  area: 'domestic' | 'overseas';
  enabled: boolean;
  options: Record<string, unknown>;
  createdAt: number;
}

/**
 * Settings shared by the nodes of one group: how their outcomes are verified (edges/verify.ts).
 * A group without a row uses the defaults (`probe` where the driver has a probe).
 */
export interface NodeGroup {
  name: string;
  verify: 'probe' | 'ack';
}

/** A per-node attempt handed to a worker under a lease, with what the driver needs. */
export interface ClaimedAttempt {
  itemId: number;
  nodeId: number;
  /** The lease token: an outcome counts only while the attempt is still leased under it. */
  lease: string;
  /** Attempts made before this one. */
  attempts: number;
  taskId: string;
  objectType: SubmitType;
  objectPath: string;
  domain: string;
  force: boolean;
  withHeader: string | null;
  origin: string | null;
  node: CacheNode;
}

/**
 * A worker in the same process as the store, which takes the attempts of newly submitted items
 * leased to it from the submit's own transaction (SQLite: submit-dispatch.ts; PostgreSQL:
 * PgQueue.dispatchIn), instead of dispatching them itself a moment later.
 */
export interface LocalTaker {
  owner: string;
  leaseMs: number;
  /** How many attempts it can start now. */
  room(): number;
  /**
   * Attempts leased to it. SQLite calls it while the submit's transaction is still writing (so
   * it must not call the store back; outcomes are recorded only after the commit), PostgreSQL
   * once the submit has committed. If it throws, the attempts wait for their lease to run out
   * and any worker takes them.
   */
  take(claimed: ClaimedAttempt[]): void;
}

/** What came of one claimed attempt; the worker's retry policy has already decided. */
export type AttemptResult = { itemId: number; nodeId: number; lease: string } & (
  | { state: 'applied'; verifiedBy?: VerifiedBy }
  | { state: 'retry'; error: string; nextRunAt: number }
  | { state: 'failed'; error: string; description: string; verifiedBy?: VerifiedBy }
);

/** One node's state for one item (DescribeRefreshTaskNodes). */
export interface NodeAttemptRow {
  taskId: string;
  itemId: number;
  objectPath: string;
  node: string;
  driver: string;
  group: string;
  state: 'pending' | 'applied' | 'failed';
  attempts: number;
  lastError: string | null;
  appliedAt: number | null;
  /** How the node's outcome was established: its probe, its acknowledgement; null while pending. */
  verifiedBy: VerifiedBy | null;
}
