import type {
  AttemptResult, CacheNode, CanceledTask, ClaimedAttempt, Domain, DomainChanges, ItemQuery, ItemRow, NodeAttemptRow, NodeGroup, SubmitBatch,
  SubmitOutcome,
} from '../domain/records.js';
import type { Product } from '../spec/types.js';
import type {
  AccessKey, Account, AuditEntry, AuditQuery, AuditRecord, ClaimedDelivery, DeliveryResult, FinishScan, Policy, QueueStats, RamUser,
  ServiceState, StoreHealth, Webhook, WebhookDelivery,
} from './records.js';

export type * from '../domain/records.js';
export type * from './records.js';

/**
 * The store, as the roles its callers use (docs/design.md, "The store"). Two adapters build it —
 * sqlite/ (embedded default) and postgres/ — and test/store/ holds both to one contract per
 * role. A caller takes the role it needs (`Pick<Store, 'identity'>`), never the whole store.
 * Every method is async so that a networked adapter fits the same shape.
 */
export interface Store {
  readonly identity: IdentityStore;
  readonly domains: DomainStore;
  readonly fleet: FleetStore;
  readonly tasks: TaskStore;
  readonly queue: AttemptQueue;
  readonly outbox: Outbox;
  readonly audit: AuditStore;
  readonly guards: Guards;
  readonly ops: StoreOps;
  readonly capabilities: StoreCapabilities;
  close(): Promise<void>;
}

/** Accounts, AccessKeys, RAM users and policies. */
export interface IdentityStore {
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
}

/** The request guards: signature nonces and per-second rate windows. */
export interface Guards {
  /** Records a signature nonce; false when this key already used it and it has not expired. */
  useNonce(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean>;
  /**
   * Count one call against `perSecond` for `key` in the current second: 0 when allowed, else the
   * ms until the next second. Shared by every API process on a shared store.
   */
  takeRate(key: string, perSecond: number, now: number): Promise<number>;
}

export interface DomainStore {
  addDomain(domain: Domain): Promise<void>;
  findDomain(name: string): Promise<Domain | undefined>;
  listDomains(accountId?: number): Promise<Domain[]>;
  setDomainOnline(name: string, online: boolean): Promise<boolean>;
  /** Change a domain's group, origin or product; false when there is no such domain. */
  updateDomain(name: string, changes: DomainChanges): Promise<boolean>;
  /** Unregister a domain (its tasks stay for the describe window); false when there is none. */
  removeDomain(name: string): Promise<boolean>;
}

export interface FleetStore {
  addNode(node: Omit<CacheNode, 'id'>): Promise<CacheNode>;
  listNodes(): Promise<CacheNode[]>;
  setNodeEnabled(name: string, enabled: boolean): Promise<boolean>;
  /** Remove a node: its unfinished attempts leave the items' scope (their progress is recounted). */
  removeNode(name: string): Promise<boolean>;
  /** Create or replace a node group's settings (how its nodes' outcomes are verified). */
  setNodeGroup(group: NodeGroup): Promise<void>;
  /** Groups with settings of their own, by name; a group without a row uses the defaults. */
  listNodeGroups(): Promise<NodeGroup[]>;
}

/** Tasks and their items as the API writes and reads them. */
export interface TaskStore {
  /**
   * Atomically: check every consumption and the preload queue, then insert tasks and items
   * (with `batch.lease`, dispatching and leasing the first items that fit). Never calls a worker:
   * what it leased comes back in the outcome. With `batch.clientToken`, a token the account
   * already used is answered from its record instead (docs/design.md, "Idempotent submits").
   */
  submit(batch: SubmitBatch): Promise<SubmitOutcome>;
  /**
   * Cancel these tasks (the account's, of this product, created since `from`): every pending
   * node attempt — leased or not — becomes failed with CANCELED_ERROR, items not yet dispatched
   * get their attempts in scope already failed so, and item progress follows. A worker's later
   * outcome for a closed attempt no longer matches its lease and counts for nothing. Returns
   * the tasks found, in id order; unknown ids are left out.
   */
  cancelTasks(accountId: number, product: Product, taskIds: string[], from: number, now: number): Promise<CanceledTask[]>;
  queryItems(q: ItemQuery): Promise<{ total: number; rows: ItemRow[] }>;
  itemsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<ItemRow[]>;
  attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<NodeAttemptRow[]>;
  /** The node attempts of these items (the account's, created since `from`), by item then node: one page of DescribeRefreshTaskNodes. */
  attemptsOfItems(accountId: number, product: Product, itemIds: number[], from: number): Promise<NodeAttemptRow[]>;
  /**
   * How many of these tasks (the account's, created since `from`) still have an item Pending or
   * Refreshing: an index probe per task, not a count of rows, so a long-poll can ask after every
   * batch of outcomes (WaitForTasks).
   */
  countOpenTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<number>;
  /** Current value of usage counters (0 when absent). */
  usage(buckets: string[]): Promise<Record<string, number>>;
}

/** The per-node attempts workers lease, run and report on. */
export interface AttemptQueue {
  /**
   * Give up to `limit` undispatched items their per-node attempts and lease the new attempts of
   * whole items, up to `max`, to `owner` in the same transaction; returns how many items were
   * dispatched and the attempts leased.
   */
  dispatchAndClaim(owner: string, now: number, leaseMs: number, limit: number, max: number): Promise<{ dispatched: number; claimed: ClaimedAttempt[] }>;
  /** Lease due, unleased attempts to `owner`. */
  claimAttempts(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAttempt[]>;
  /** Extend the leases of attempts still running under these tokens (the worker's heartbeat). */
  renewLeases(leases: string[], until: number): Promise<void>;
  /** Free attempts whose lease ran out (their worker died or hung); returns how many. */
  reapLeases(now: number): Promise<number>;
  /** Record outcomes of attempts still held under their lease; item counts and status follow in the same transaction. */
  recordOutcomes(now: number, results: AttemptResult[]): Promise<void>;
}

/** Finished tasks and the webhook deliveries they queue (worker/notifier.ts). */
export interface Outbox {
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
}

export interface AuditStore {
  /** Append audit records (the caller batches them; identity/audit.ts). */
  appendAudit(records: AuditRecord[]): Promise<void>;
  /** Newest first. */
  queryAudit(q: AuditQuery): Promise<AuditEntry[]>;
}

/** What operators and the housekeeping timer use. */
export interface StoreOps {
  /** Reads the schema version; throws when the store cannot be reached. */
  health(): Promise<StoreHealth>;
  queueStats(): Promise<QueueStats>;
  /** Paths submitted on `day` (yyyy-mm-dd) over all accounts, per product and quota kind. */
  usageTotals(day: string): Promise<{ product: Product; kind: string; used: number }[]>;
  /**
   * Delete items, tasks and webhook deliveries created before `before`, expired counters and
   * nonces, and — when `auditBefore` is given — audit records older than it (audit outlives the
   * task window).
   */
  sweep(before: number, now: number, auditBefore?: number): Promise<{ items: number; audit: number }>;
}

/** The backend differences code reads; the contract suite asserts each. */
export interface StoreCapabilities {
  /**
   * Work committed by another process (a submit, freed leases) is announced here — PostgreSQL's
   * LISTEN/NOTIFY; returns the unsubscribe. Absent on SQLite, where one process serves the API
   * and the submits of this process reach its worker through the hand-off (worker/hand-off.ts).
   */
  listenForWork?(listener: () => void): () => void;
  /**
   * Tasks canceled by another process, once the cancel has closed their attempts (PostgreSQL's
   * LISTEN/NOTIFY): its workers drop the attempts of those tasks they have not started. Absent
   * on SQLite, where the cancel and the workers share a process (worker/progress-events.ts).
   */
  listenForCancel?(listener: (taskIds: string[]) => void): () => void;
}
