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
  createdAt: number;
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

  // domains
  addDomain(domain: Domain): Promise<void>;
  findDomain(name: string): Promise<Domain | undefined>;
  listDomains(accountId?: number): Promise<Domain[]>;
  setDomainOnline(name: string, online: boolean): Promise<boolean>;

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
