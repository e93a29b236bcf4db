import type { Product } from '../spec/types.js';
import type { SubmitType } from './object-path.js';
import type { ItemStatus, NodeCounts } from './progress.js';

/**
 * The records of tasks, items, cache nodes and their per-node attempts. The domain owns them;
 * the store ports (src/store/port.ts) read and write them, so the store imports the domain and
 * never the other way round.
 */

export interface Domain {
  name: string;
  accountId: number;
  product: Product;
  origin: string | null;
  online: boolean;
  /** The node group whose cache nodes serve this domain. */
  nodeGroup: string;
  createdAt: number;
}

/** What `refreshd domain set` may change of a domain (the others stay). */
export type DomainChanges = Partial<Pick<Domain, 'nodeGroup' | 'origin' | 'product'>>;

/** One task to create: one submission for one domain, with its paths as items. */
export interface NewTask {
  domain: string;
  objectType: SubmitType;
  force: boolean;
  area: string | null;
  l2Preload: boolean;
  withHeader: string | null;
  paths: string[];
  /**
   * Purge-then-warm (RefreshObjectCaches `PreloadAfter`): each node preloads the path once it has
   * confirmed the purge (AttemptPhase). Absent: false.
   */
  preloadAfter?: boolean;
  /**
   * VerifyUrl: sample URLs on this task's domain that the purge is verified on, as given
   * (domain/verify-url.ts); absent or empty when the caller gave none.
   */
  verifyUrls?: string[];
}

/**
 * The phase of a node attempt of a purge-then-warm item: `purge` until the node confirms the
 * purge, then `preload`, due at once, with its own attempt count. Attempts of other items have
 * one phase, their item's own operation (null).
 */
export type AttemptPhase = 'purge' | 'preload';

/** A usage counter with a ceiling: `used + amount` must stay ≤ `limit` or nothing is written. */
export interface Consumption {
  /** e.g. `day:2026-11-23:cdn:url` (per account) or `minute:29446080:example.com` (per domain). */
  bucket: string;
  amount: number;
  limit: number;
  /** Counter row expiry (epoch ms), for the sweeper. */
  expiresAt: number;
}

/** Room of a worker in the submitting process: new attempts that fit are leased to it in the submit. */
export interface LeaseRequest {
  owner: string;
  leaseMs: number;
  /** How many attempts it can take now (whole items only). */
  room: number;
}

export interface SubmitBatch {
  accountId: number;
  product: Product;
  createdAt: number;
  consume: Consumption[];
  /** When set, the account's unfinished preload rows plus the new ones must stay ≤ this. */
  preloadQueueLimit?: number;
  tasks: NewTask[];
  /**
   * An idempotent submit: when the account already used this token (and it has not expired),
   * nothing is written and the first call's task ids come back (`replayed`), or `tokenMismatch`
   * when its fingerprint differs. Otherwise the token is recorded with the new tasks, in the
   * same transaction.
   */
  clientToken?: ClientTokenClaim;
  /**
   * When set, the first new items that fit in `room` are dispatched in the submit's own
   * transaction, their attempts leased to `owner`, and returned in `leased` — never ahead of
   * older work still waiting (items not yet dispatched, attempts due without a worker).
   */
  lease?: LeaseRequest;
}

export type SubmitOutcome =
  | {
      ok: true;
      taskIds: string[];
      /** Attempts leased to `batch.lease.owner`, committed: the caller hands them to that worker. */
      leased: ClaimedAttempt[];
      /** Items left for the workers' own dispatch (a reason to wake them). */
      waiting: number;
      /**
       * Resolves once the submit is on disk. A store that commits first and syncs after (SQLite's
       * group commit) lets the caller start the leased work meanwhile; answer the client only after.
       */
      durable(): Promise<void>;
      /** The batch's client token had been used with the same parameters: these are that call's tasks, nothing was written. */
      replayed?: true;
    }
  | { ok: false; exceeded: string }
  | { ok: false; queueFull: true }
  | { ok: false; tokenMismatch: true };

/** A ClientToken as a submit hands it to the store (domain/client-token.ts). */
export interface ClientTokenClaim {
  token: string;
  /** Digest of the call's parameters: the same token with another fingerprint is refused. */
  fingerprint: string;
  /** Until when the token answers with its tasks (the submit's time + 24 h); after that it is free again. */
  expiresAt: number;
}

/** What a cancel did to one task (CancelRefreshTasks), and the task's items after it. */
export interface CanceledTask {
  taskId: string;
  items: number;
  /** Items Complete, and Failed, after the cancel (the others are still open: none once a cancel has finished). */
  complete: number;
  failed: number;
  /** Items of which this cancel stopped at least one node. */
  canceledItems: number;
  /** Node attempts this cancel closed as `canceled` (pending ones, and those of items not yet dispatched). */
  canceledNodes: number;
  /** Node attempts already applied: reported, not undone. */
  appliedNodes: number;
}

/** The per-node reason of an attempt closed by a cancel, and the item's Description when it has none yet. */
export const CANCELED_ERROR = 'canceled';
export const CANCELED_DESCRIPTION = 'Canceled';

export interface ItemRow {
  /** The item's own id: one path of one task (a task holds each path once). */
  itemId: number;
  taskId: string;
  objectPath: string;
  objectType: SubmitType;
  domain: string;
  createdAt: number;
  counts: NodeCounts;
  description: string;
}

export interface ItemQuery {
  accountId: number;
  product: Product;
  /** Inclusive window, epoch ms. */
  from: number;
  to: number;
  taskId?: string;
  objectPath?: string;
  objectType?: SubmitType | 'block' | 'unblock';
  /** One status, or rows of any of several (CDN's `Refreshing` filter is Pending or Refreshing). */
  status?: ItemStatus | readonly ItemStatus[];
  domains?: string[];
  offset: number;
  limit: number;
}

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
 * A group without a row uses the default (`probe` where the driver has a probe).
 */
export interface NodeGroup {
  name: string;
  verify: GroupVerify;
}

/** How a node group has its nodes' outcomes verified: by a probe where there is one, or by their answer. */
export type GroupVerify = 'probe' | 'ack';

/**
 * How a node's outcome was established (edges/verify.ts): `probe`, the node's cache was looked
 * at afterwards and showed the object — or the caller's sample URLs (VerifyUrl) — gone (or
 * stale, or, for a preload, a fresh hit); `canary`, a Regex purge without samples was proven on
 * the node's canary object, warmed first and gone after; `ack`, the node's answer to the
 * operation was taken at its word.
 */
export type VerifiedBy = 'probe' | 'canary' | 'ack';

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
  /** The task's VerifyUrl samples ([] when none). */
  verifyUrls: string[];
  origin: string | null;
  node: CacheNode;
  /** Purge-then-warm: which of the two steps this attempt runs (absent: the item's own operation). */
  phase?: AttemptPhase;
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
  /** When the node applied the item; null unless applied. */
  appliedAt: number | null;
  /** When the node finished with the item: applied, or failed for good; null while pending. */
  finishedAt: number | null;
  /** How the node's outcome was established: its probe, its acknowledgement; null while pending. */
  verifiedBy: VerifiedBy | null;
  /** Purge-then-warm: the step the node is at (or finished in); null for other items. */
  phase: AttemptPhase | null;
  /** Purge-then-warm: when the node confirmed the purge; null before, and for other items. */
  purgedAt: number | null;
}

/**
 * The cache nodes a task reaches: the enabled nodes of its domain's group, and with a preload
 * `Area` only that area's. The one statement of the scope rule; the SQL dispatches say the same.
 */
export function nodesInScope(nodes: CacheNode[], group: string, area: string | null): CacheNode[] {
  return nodes.filter((n) => n.enabled && n.group === group && (!area || n.area === area));
}
