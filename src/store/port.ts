import type { ItemStatus, NodeCounts } from '../domain/progress.js';
import type { SubmitType } from '../domain/object-path.js';
import type { Product } from '../spec/types.js';
import type { AttemptResult, CacheNode, ClaimedAttempt, LocalTaker, NodeAttemptRow, NodeGroup } from './queue-records.js';

// The fleet and queue records live in queue-records.ts; every adapter and caller imports them from here.
export type { AttemptResult, CacheNode, ClaimedAttempt, LocalTaker, NodeAttemptRow, NodeGroup } from './queue-records.js';

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
  /**
   * The secret sealed by identity/secret-box.ts (AES-256-GCM under the master key). The store
   * never sees a secret in the clear; `plain:` marks a row migrated from before sealing, which
   * identity/vault.ts seals the first time a vault is opened on the store.
   */
  secretCipher: string;
  accountId: number;
  /** The RAM user the key belongs to; null for the account's root keys. */
  userName: string | null;
  active: boolean;
  createdAt: number;
}

/** A RAM user: a principal inside one account, with its own keys and attached policies. */
export interface RamUser {
  accountId: number;
  name: string;
  displayName: string;
  createdAt: number;
}

/** A custom policy of one account: a RAM-style JSON document (identity/policy.ts). */
export interface Policy {
  accountId: number;
  name: string;
  description: string;
  document: string;
  createdAt: number;
}

/** One API call as the audit log keeps it. Secrets, Signature and SecurityToken never get here. */
export interface AuditRecord {
  at: number;
  requestId: string;
  /** The account of the AccessKey the call named, when it exists (even if the signature failed). */
  accountId: number | null;
  userName: string | null;
  accessKeyId: string | null;
  sourceIp: string;
  product: Product | null;
  action: string | null;
  /** JSON object of the request parameters, scrubbed (identity/audit.ts). */
  params: string;
  status: number;
  /** The catalogue error code; null for a successful call. */
  code: string | null;
}

export interface AuditEntry extends AuditRecord {
  id: number;
}

export interface AuditQuery {
  accountId?: number;
  action?: string;
  /** Inclusive lower bound on `at`, epoch ms. */
  since?: number;
  /** Exclusive upper bound on `at`, epoch ms. */
  until?: number;
  limit: number;
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

/** An account's webhook: where its TaskFinished events go, and how they are signed. */
export interface Webhook {
  accountId: number;
  /** http(s) URL the notifier POSTs to. */
  url: string;
  /** The signing secret sealed by identity/secret-box.ts with `webhook:<accountId>` as AAD. */
  secretCipher: string;
  createdAt: number;
}

/** A task `finishTasks` marked finished in this call. */
export interface FinishedTask {
  taskId: string;
  accountId: number;
}

export interface FinishScan {
  finished: FinishedTask[];
  /**
   * Set when the scan stopped at `limit` unfinished tasks: pass it as `after` next time so the
   * tasks behind a long-running one get looked at too. Unset: the scan reached the end.
   */
  next?: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One event for one task to one account's webhook, as `refreshd webhook deliveries` lists it. */
export interface WebhookDelivery {
  id: number;
  accountId: number;
  taskId: string;
  product: Product;
  event: string;
  createdAt: number;
  /** Attempts recorded so far (a POST whose outcome was never recorded does not count). */
  attempts: number;
  nextRunAt: number;
  state: DeliveryState;
  lastError: string | null;
  deliveredAt: number | null;
}

/** A delivery handed to a notifier under a lease, with what it needs to send it. */
export interface ClaimedDelivery {
  id: number;
  /** The lease token: an outcome counts only while the delivery is still leased under it. */
  lease: string;
  accountId: number;
  taskId: string;
  product: Product;
  event: string;
  /** Attempts recorded before this one. */
  attempts: number;
  /** The task's creation and finish times; null when retention has deleted the task. */
  taskCreatedAt: number | null;
  finishedAt: number | null;
  /** The account's webhook as it is now; null when it was removed after the event was queued. */
  webhook: { url: string; secretCipher: string } | null;
}

/** What came of one delivery attempt; the notifier's retry policy has already decided. */
export type DeliveryResult =
  | { state: 'delivered' }
  | { state: 'retry'; error: string; nextRunAt: number }
  | { state: 'failed'; error: string };

/** What `/readyz` and `/metrics` read from the store. */
export interface StoreHealth {
  /** Migrations applied in the store, and how many this build knows. */
  schemaVersion: number;
  expectedVersion: number;
}

export interface QueueStats {
  /** Items accepted but not yet given their per-node attempts. */
  undispatched: number;
  /** Attempts waiting for a worker (including retries not yet due). */
  pending: number;
  /** Attempts a worker holds right now. */
  leased: number;
}

export interface StoreCapabilities {
  /** Several processes may serve the API on one store (PostgreSQL); SQLite is one writer process. */
  sharedAcrossProcesses: boolean;
}

export interface TaskStore {
  readonly capabilities: StoreCapabilities;
  close(): Promise<void>;

  // operations
  /** Reads the schema version; throws when the store cannot be reached. */
  health(): Promise<StoreHealth>;
  queueStats(): Promise<QueueStats>;
  /** Paths submitted on `day` (yyyy-mm-dd) over all accounts, per product and quota kind. */
  usageTotals(day: string): Promise<{ product: Product; kind: string; used: number }[]>;

  // identity: accounts, AccessKeys, RAM users, policies
  createAccount(input: { uid: string; name: string; createdAt: number }): Promise<Account>;
  getAccount(id: number): Promise<Account | undefined>;
  findAccountByName(name: string): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;
  setServiceState(accountId: number, product: Product, state: ServiceState): Promise<void>;
  createAccessKey(key: AccessKey): Promise<void>;
  findAccessKey(accessKeyId: string): Promise<AccessKey | undefined>;
  /** One account's keys (root and RAM users'), or every key of the store; oldest first. */
  listAccessKeys(accountId?: number): Promise<AccessKey[]>;
  setAccessKeyActive(accessKeyId: string, active: boolean): Promise<boolean>;
  /** Replace a key's sealed secret only while it still is `expected` (sealing migrated rows). */
  replaceSecretCipher(accessKeyId: string, expected: string, secretCipher: string): Promise<boolean>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;
  /** False when the account already has a user of that name. */
  createUser(user: RamUser): Promise<boolean>;
  findUser(accountId: number, name: string): Promise<RamUser | undefined>;
  listUsers(accountId: number): Promise<RamUser[]>;
  /** Remove a user with its AccessKeys and policy attachments, in one transaction. */
  removeUser(accountId: number, name: string): Promise<boolean>;
  /** False when the account already has a policy of that name. */
  createPolicy(policy: Policy): Promise<boolean>;
  findPolicy(accountId: number, name: string): Promise<Policy | undefined>;
  listPolicies(accountId: number): Promise<Policy[]>;
  /** Delete a policy and its attachments. */
  deletePolicy(accountId: number, name: string): Promise<boolean>;
  /** False when already attached. User and policy must exist in the account. */
  attachPolicy(accountId: number, userName: string, policyName: string, at: number): Promise<boolean>;
  detachPolicy(accountId: number, userName: string, policyName: string): Promise<boolean>;
  /** The policies attached to a user (what authorization evaluates), by policy name. */
  policiesOfUser(accountId: number, userName: string): Promise<Policy[]>;
  /** Every attachment of an account, by user then policy name. */
  listAttachments(accountId: number): Promise<{ userName: string; policyName: string }[]>;
  /** Store `value` under `name` unless a value is there already; returns the stored value. */
  ensureMeta(name: string, value: string): Promise<string>;
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
  /** Change a domain's group, origin or product; false when there is no such domain. */
  updateDomain(name: string, changes: DomainChanges): Promise<boolean>;
  /** Unregister a domain (its tasks stay for the describe window); false when there is none. */
  removeDomain(name: string): Promise<boolean>;

  // fleet
  addNode(node: Omit<CacheNode, 'id'>): Promise<CacheNode>;
  listNodes(): Promise<CacheNode[]>;
  setNodeEnabled(name: string, enabled: boolean): Promise<boolean>;
  /** Remove a node: its unfinished attempts leave the items' scope (their progress is recounted). */
  removeNode(name: string): Promise<boolean>;
  /** Create or replace a node group's settings. */
  setNodeGroup(group: NodeGroup): Promise<void>;
  /** Groups with settings of their own, by name. */
  listNodeGroups(): Promise<NodeGroup[]>;

  // execution queue (worker side)
  /** Give up to `limit` undispatched items their per-node attempts; returns how many. */
  dispatchPending(now: number, limit: number): Promise<number>;
  /**
   * dispatchPending that also leases the new attempts of whole items, up to `max` attempts, to
   * `owner` in the same transaction, as claimAttempts would next; returns how many items were
   * dispatched and the attempts leased. A worker with room saves the claim's round.
   */
  dispatchAndClaim(owner: string, now: number, leaseMs: number, limit: number, max: number): Promise<{ dispatched: number; claimed: ClaimedAttempt[] }>;
  /** Free attempts whose lease ran out (their worker died or hung); returns how many. */
  reapLeases(now: number): Promise<number>;
  /** Lease due, unleased attempts to `owner`. */
  claimAttempts(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAttempt[]>;
  /** Extend the leases of attempts still running under these tokens (the worker's heartbeat). */
  renewLeases(leases: string[], until: number): Promise<void>;
  /** Record outcomes of attempts still held under their lease; item counts and status follow in the same transaction. */
  recordOutcomes(now: number, results: AttemptResult[]): Promise<void>;
  attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<NodeAttemptRow[]>;
  /**
   * How many of these tasks (the account's, created since `from`) still have an item Pending or
   * Refreshing: an index probe per task, not a count of rows, so a long-poll can ask after every
   * batch of outcomes (WaitForTasks).
   */
  countOpenTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<number>;
  /** Called after new work is committed (same process for SQLite; LISTEN/NOTIFY for PostgreSQL). */
  onWork(listener: () => void): () => void;
  /**
   * Let a worker of this process take new items at submit (LocalTaker): those that fit in its
   * room, oldest first and never ahead of older undispatched items; returns the detach.
   */
  attachTaker(taker: LocalTaker): () => void;

  // tasks
  /** Atomically: check every consumption and the preload queue, then insert tasks and items. */
  submit(batch: SubmitBatch): Promise<SubmitOutcome>;
  queryItems(q: ItemQuery): Promise<{ total: number; rows: ItemRow[] }>;
  itemsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<ItemRow[]>;
  /** Current value of usage counters (0 when absent). */
  usage(buckets: string[]): Promise<Record<string, number>>;

  // webhooks (worker/notifier.ts)
  /**
   * Look at up to `limit` unfinished tasks (after task id `after`, in id order) and mark those
   * whose items are all Complete or Failed as finished at `now` — a conditional update, so of
   * two processes only one finishes a task — queueing, in the same transaction, one TaskFinished
   * delivery per finished task of an account that has a webhook.
   */
  finishTasks(now: number, limit: number, after?: string): Promise<FinishScan>;
  /** Set (replace) or, with null, remove an account's webhook; false when there was none to remove. */
  setWebhook(accountId: number, hook: { url: string; secretCipher: string } | null, now: number): Promise<boolean>;
  getWebhook(accountId: number): Promise<Webhook | undefined>;
  /** Lease due pending deliveries (an expired lease is due again) to `owner` for `leaseMs`. */
  claimDeliveries(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]>;
  /** Record an attempt's result while the delivery is still leased under `lease`; false otherwise. */
  recordDelivery(now: number, id: number, lease: string, result: DeliveryResult): Promise<boolean>;
  /** One account's deliveries, newest first. */
  listDeliveries(accountId: number, limit: number): Promise<WebhookDelivery[]>;

  // audit
  /** Append audit records (the caller batches them; identity/audit.ts). */
  appendAudit(records: AuditRecord[]): Promise<void>;
  /** Newest first. */
  queryAudit(q: AuditQuery): Promise<AuditEntry[]>;

  /**
   * Delete items, tasks and webhook deliveries created before `before`, expired counters and nonces, and — when
   * `auditBefore` is given — audit records older than it (audit outlives the task window).
   */
  sweep(before: number, now: number, auditBefore?: number): Promise<{ items: number; audit: number }>;
}
