import type { ItemStatus, NodeCounts } from '../domain/progress.js';
import type { SubmitType } from '../domain/object-path.js';
import type { Product } from '../spec/types.js';

/**
 * The TaskStore port (DESIGN.md convention 4). Two adapters implement it — sqlite/ (embedded
 * default) and postgres/ (issue 5) — and test/store/contract.ts holds both to one behaviour.
 * Every method is async so that a networked adapter fits the same shape.
 */

export interface Account {
  id: number;
  /** The public numeric account id used in RAM resources (`acs:cdn:*:<uid>:domain/...`). */
  uid: string;
  name: string;
  /** Per product: 'active' | 'suspended' | 'none' (service not opened). */
  services: Record<Product, ServiceState>;
  createdAt: number;
}
export type ServiceState = 'active' | 'suspended' | 'none';

export interface AccessKey {
  accessKeyId: string;
  secret: string;
  accountId: number;
  userName: string | null;
  active: boolean;
  createdAt: number;
}

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

/** What came of one claimed attempt; the worker's retry policy has already decided. */
export type AttemptResult = { itemId: number; nodeId: number; lease: string } & (
  | { state: 'applied' }
  | { state: 'retry'; error: string; nextRunAt: number }
  | { state: 'failed'; error: string; description: string }
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
}

/** One task to create: one submission for one domain, with its paths as items. */
export interface NewTask {
  domain: string;
  objectType: SubmitType;
  force: boolean;
  area: string | null;
  l2Preload: boolean;
  withHeader: string | null;
  paths: string[];
}

/** A usage counter with a ceiling: `used + amount` must stay ≤ `limit` or nothing is written. */
export interface Consumption {
  /** e.g. `day:2026-11-23:cdn:url` (per account) or `minute:29446080:example.com` (per domain). */
  bucket: string;
  amount: number;
  limit: number;
  /** Counter row expiry (epoch ms), for the sweeper. */
  expiresAt: number;
}

export interface SubmitBatch {
  accountId: number;
  product: Product;
  createdAt: number;
  consume: Consumption[];
  /** When set, the account's unfinished preload rows plus the new ones must stay ≤ this. */
  preloadQueueLimit?: number;
  tasks: NewTask[];
}

export type SubmitOutcome =
  | { ok: true; taskIds: string[] }
  | { ok: false; exceeded: string }
  | { ok: false; queueFull: true };

export interface ItemRow {
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
  status?: ItemStatus;
  domains?: string[];
  offset: number;
  limit: number;
}

export interface StoreCapabilities {
  /** Several processes may serve the API on one store (PostgreSQL); SQLite is one writer process. */
  sharedAcrossProcesses: boolean;
}

export interface TaskStore {
  readonly capabilities: StoreCapabilities;
  close(): Promise<void>;

  // identity
  createAccount(input: { uid: string; name: string; createdAt: number }): Promise<Account>;
  getAccount(id: number): Promise<Account | undefined>;
  findAccountByName(name: string): Promise<Account | undefined>;
  setServiceState(accountId: number, product: Product, state: ServiceState): Promise<void>;
  createAccessKey(key: AccessKey): Promise<void>;
  findAccessKey(accessKeyId: string): Promise<AccessKey | undefined>;
  listAccessKeys(accountId: number): Promise<AccessKey[]>;
  /** Records a signature nonce; false when this key already used it and it has not expired. */
  useNonce(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean>;
  /**
   * Count one call against `perSecond` for `key` in the current second: 0 when allowed, else the
   * ms until the next second. Shared by every API process on a shared store.
   */
  takeRate(key: string, perSecond: number, now: number): Promise<number>;

  // domains
  addDomain(domain: Domain): Promise<void>;
  findDomain(name: string): Promise<Domain | undefined>;
  listDomains(accountId?: number): Promise<Domain[]>;
  setDomainOnline(name: string, online: boolean): Promise<boolean>;

  // fleet
  addNode(node: Omit<CacheNode, 'id'>): Promise<CacheNode>;
  listNodes(): Promise<CacheNode[]>;
  setNodeEnabled(name: string, enabled: boolean): Promise<boolean>;
  /** Remove a node: its unfinished attempts leave the items' scope (their progress is recounted). */
  removeNode(name: string): Promise<boolean>;

  // execution queue (worker side)
  /** Give up to `limit` undispatched items their per-node attempts; returns how many. */
  dispatchPending(now: number, limit: number): Promise<number>;
  /** Free attempts whose lease ran out (their worker died or hung); returns how many. */
  reapLeases(now: number): Promise<number>;
  /** Lease due, unleased attempts to `owner`. */
  claimAttempts(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAttempt[]>;
  /** Extend the leases of attempts still running under these tokens (the worker's heartbeat). */
  renewLeases(leases: string[], until: number): Promise<void>;
  /** Record outcomes of attempts still held under their lease; item counts and status follow in the same transaction. */
  recordOutcomes(now: number, results: AttemptResult[]): Promise<void>;
  attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<NodeAttemptRow[]>;
  /** Called after new work is committed (same process for SQLite; LISTEN/NOTIFY for PostgreSQL). */
  onWork(listener: () => void): () => void;

  // tasks
  /** Atomically: check every consumption and the preload queue, then insert tasks and items. */
  submit(batch: SubmitBatch): Promise<SubmitOutcome>;
  queryItems(q: ItemQuery): Promise<{ total: number; rows: ItemRow[] }>;
  itemsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<ItemRow[]>;
  /** Current value of usage counters (0 when absent). */
  usage(buckets: string[]): Promise<Record<string, number>>;
  /** Delete items and tasks created before `before`, and expired counters and nonces. */
  sweep(before: number, now: number): Promise<{ items: number }>;
}
