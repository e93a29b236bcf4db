import type { Product } from '../spec/types.js';

/**
 * The records the store roles of port.ts read and write that are not the domain's: accounts
 * and their credentials, the audit log, webhooks and their deliveries, and what operations read.
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

/** An AccessKey with its account, as a request is authenticated: one read (IdentityStore.findCredential). */
export interface Credential {
  key: AccessKey;
  /** Undefined only if the key's account row is gone. */
  account: Account | undefined;
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

