import Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import type {
  QueueStats, StoreHealth,
  AccessKey, Account, AttemptResult, AuditEntry, AuditQuery, AuditRecord, CacheNode, ClaimedAttempt, Domain, DomainChanges, NodeGroup, ItemQuery, ItemRow, LocalTaker,
  NodeAttemptRow, Policy, RamUser, ServiceState, StoreCapabilities, SubmitBatch, SubmitOutcome, TaskStore,
  ClaimedDelivery, DeliveryResult, FinishScan, Webhook, WebhookDelivery,
} from '../port.js';
import { LocalTakers } from '../local-takers.js';
import { SqliteFleet } from './fleet.js';
import { SqliteIdentity } from './identity.js';
import { MIGRATIONS, REBUILD_ITEM_COUNTS } from './migrations.js';
import { RateWindows } from '../rate-window.js';
import { NonceLog } from './nonce-log.js';
import { SqliteQueue } from './queue.js';
import { SqliteTasks, subtractItemCounts } from './tasks.js';
import { WalSync } from './wal-sync.js';
import { SqliteWebhooks } from './webhooks.js';

/**
 * Embedded store on one SQLite file (WAL). better-sqlite3 is synchronous; every call is short,
 * so the event loop is blocked for microseconds, not milliseconds. One process writes: the API
 * server; admin commands share the file through SQLite's own locking.
 */
export class SqliteStore implements TaskStore {
  readonly capabilities: StoreCapabilities = { sharedAcrossProcesses: false };
  private readonly db: Database.Database;
  private readonly nonces: NonceLog;
  private readonly rates = new RateWindows();
  private readonly stmt;
  /** The engine's own connection (queue and fleet), see the constructor. */
  private readonly workDb: Database.Database;
  private readonly fleet: SqliteFleet;
  private readonly queue: SqliteQueue;
  private readonly identity: SqliteIdentity;
  private readonly tasks: SqliteTasks;
  private readonly webhooks: SqliteWebhooks;
  private readonly workListeners = new Set<() => void>();
  private readonly takers = new LocalTakers();
  /** Group commit of submits (wal-sync.ts); absent when the file is not in WAL mode (`:memory:`). */
  private readonly walSync: WalSync | undefined;
  /** The two settings submit switches between, prepared once (db.pragma() compiles each time). */
  private readonly syncNormal: Database.Statement;
  private readonly syncFull: Database.Statement;

  constructor(file: string) {
    this.db = new Database(file);
    const wal = this.db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // FULL: what the API writes is on disk before it answers, so it survives power loss, not
    // just a crash. Submits, the one frequent write, get the same promise through a group
    // commit off the event loop instead (submit below, wal-sync.ts).
    this.db.pragma('synchronous = FULL');
    this.walSync = wal ? new WalSync(`${file}-wal`) : undefined;
    this.syncNormal = this.db.prepare('PRAGMA synchronous = NORMAL');
    this.syncFull = this.db.prepare('PRAGMA synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -65536');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
    this.stmt = prepare(this.db);
    this.tasks = new SqliteTasks(this.db);
    // The engine writes through a second connection at synchronous=NORMAL: a lost outcome only
    // means a purge runs again after a crash (purges are idempotent), and per-outcome fsyncs
    // would cap the fan-out rate. WAL keeps it crash-safe; the next submit's flush (or FULL commit)
    // syncs it.
    // The two connections never nest transactions (better-sqlite3 runs each to completion).
    this.workDb = new Database(file);
    this.workDb.pragma('synchronous = NORMAL');
    this.workDb.pragma('busy_timeout = 5000');
    this.workDb.pragma('cache_size = -65536');
    this.fleet = new SqliteFleet(this.workDb);
    this.queue = new SqliteQueue(this.workDb);
    this.identity = new SqliteIdentity(this.db, this.workDb);
    this.webhooks = new SqliteWebhooks(this.db, this.workDb);
    this.nonces = new NonceLog(file);
  }

  async health(): Promise<StoreHealth> {
    return { schemaVersion: this.db.pragma('user_version', { simple: true }) as number, expectedVersion: MIGRATIONS.length };
  }

  async queueStats(): Promise<QueueStats> {
    return this.queue.stats();
  }

  async usageTotals(day: string): Promise<{ product: Product; kind: string; used: number }[]> {
    return this.tasks.usageTotals(day);
  }

  async close(): Promise<void> {
    await this.walSync?.close();
    this.nonces.close();
    this.workDb.close();
    this.db.close();
  }

  async createAccount(input: { uid: string; name: string; createdAt: number }): Promise<Account> {
    const id = Number(this.stmt.insertAccount.run(input.uid, input.name, input.createdAt).lastInsertRowid);
    return (await this.getAccount(id))!;
  }

  async getAccount(id: number): Promise<Account | undefined> {
    return toAccount(this.stmt.accountById.get(id));
  }

  async findAccountByName(name: string): Promise<Account | undefined> {
    return toAccount(this.stmt.accountByName.get(name));
  }

  async setServiceState(accountId: number, product: Product, state: ServiceState): Promise<void> {
    const column = product === 'cdn' ? 'cdn_service' : 'vod_service';
    this.db.prepare(`UPDATE accounts SET ${column} = ? WHERE id = ?`).run(state, accountId);
  }

  async listAccounts(): Promise<Account[]> {
    return this.stmt.allAccounts.all().map((r) => toAccount(r)!);
  }

  async createAccessKey(k: AccessKey): Promise<void> {
    this.identity.createKey(k);
  }

  async findAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    return this.identity.findKey(accessKeyId);
  }

  async listAccessKeys(accountId?: number): Promise<AccessKey[]> {
    return this.identity.listKeys(accountId);
  }

  async setAccessKeyActive(accessKeyId: string, active: boolean): Promise<boolean> {
    return this.identity.setKeyActive(accessKeyId, active);
  }

  async replaceSecretCipher(accessKeyId: string, expected: string, secretCipher: string): Promise<boolean> {
    return this.identity.replaceCipher(accessKeyId, expected, secretCipher);
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.identity.deleteKey(accessKeyId);
  }

  async createUser(user: RamUser): Promise<boolean> {
    return this.identity.createUser(user);
  }

  async findUser(accountId: number, name: string): Promise<RamUser | undefined> {
    return this.identity.findUser(accountId, name);
  }

  async listUsers(accountId: number): Promise<RamUser[]> {
    return this.identity.listUsers(accountId);
  }

  async removeUser(accountId: number, name: string): Promise<boolean> {
    return this.identity.removeUser(accountId, name);
  }

  async createPolicy(policy: Policy): Promise<boolean> {
    return this.identity.createPolicy(policy);
  }

  async findPolicy(accountId: number, name: string): Promise<Policy | undefined> {
    return this.identity.findPolicy(accountId, name);
  }

  async listPolicies(accountId: number): Promise<Policy[]> {
    return this.identity.listPolicies(accountId);
  }

  async deletePolicy(accountId: number, name: string): Promise<boolean> {
    return this.identity.deletePolicy(accountId, name);
  }

  async attachPolicy(accountId: number, userName: string, policyName: string, at: number): Promise<boolean> {
    return this.identity.attach(accountId, userName, policyName, at);
  }

  async detachPolicy(accountId: number, userName: string, policyName: string): Promise<boolean> {
    return this.identity.detach(accountId, userName, policyName);
  }

  async policiesOfUser(accountId: number, userName: string): Promise<Policy[]> {
    return this.identity.policiesOfUser(accountId, userName);
  }

  async listAttachments(accountId: number): Promise<{ userName: string; policyName: string }[]> {
    return this.identity.attachments(accountId);
  }

  async ensureMeta(name: string, value: string): Promise<string> {
    return this.identity.ensureMeta(name, value);
  }

  async appendAudit(records: AuditRecord[]): Promise<void> {
    this.identity.appendAudit(records);
  }

  async queryAudit(q: AuditQuery): Promise<AuditEntry[]> {
    return this.identity.queryAudit(q);
  }

  async useNonce(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    return this.nonces.use(accessKeyId, nonce, expiresAt);
  }

  async takeRate(key: string, perSecond: number, now: number): Promise<number> {
    return this.rates.take(key, perSecond, now);
  }

  async addDomain(d: Domain): Promise<void> {
    this.stmt.insertDomain.run(d.name, d.accountId, d.product, d.origin, d.online ? 1 : 0, d.nodeGroup, d.createdAt);
  }

  async findDomain(name: string): Promise<Domain | undefined> {
    return toDomain(this.stmt.domainByName.get(name));
  }

  async listDomains(accountId?: number): Promise<Domain[]> {
    const rows = accountId === undefined ? this.stmt.allDomains.all() : this.stmt.domainsOfAccount.all(accountId);
    return rows.map((r) => toDomain(r)!);
  }

  async setDomainOnline(name: string, online: boolean): Promise<boolean> {
    return this.stmt.setDomainOnline.run(online ? 1 : 0, name).changes > 0;
  }

  /**
   * Commit at synchronous=NORMAL, hand the local worker what was dispatched to it at submit,
   * wake the workers for the rest, then wait for the WAL flush before returning: the task is on
   * disk when the caller hears of it, and the engine starts on it while the disk flushes
   * (wal-sync.ts).
   */
  async submit(batch: SubmitBatch): Promise<SubmitOutcome> {
    const reserved = this.takers.reserve();
    const run = () => this.tasks.submit(batch, reserved);
    let written;
    try {
      written = this.walSync ? this.unsynced(run) : run();
    } finally {
      reserved?.release();
    }
    const { outcome, undispatched } = written;
    if (!outcome.ok) return outcome;
    if (undispatched > 0) for (const listener of this.workListeners) listener();
    await this.walSync?.sync();
    return outcome;
  }

  attachTaker(taker: LocalTaker): () => void {
    return this.takers.attach(taker);
  }

  /** Run one transaction without the fsync of synchronous=FULL (the pragma cannot change inside a transaction). */
  private unsynced<T>(run: () => T): T {
    this.syncNormal.run();
    try {
      return run();
    } finally {
      this.syncFull.run();
    }
  }

  async updateDomain(name: string, changes: DomainChanges): Promise<boolean> {
    return this.fleet.updateDomain(name, changes);
  }

  async removeDomain(name: string): Promise<boolean> {
    return this.fleet.removeDomain(name);
  }

  async setNodeGroup(group: NodeGroup): Promise<void> {
    return this.fleet.setGroup(group);
  }

  async listNodeGroups(): Promise<NodeGroup[]> {
    return this.fleet.groups();
  }

  async addNode(node: Omit<CacheNode, 'id'>): Promise<CacheNode> {
    return this.fleet.add(node);
  }

  async listNodes(): Promise<CacheNode[]> {
    return this.fleet.list();
  }

  async setNodeEnabled(name: string, enabled: boolean): Promise<boolean> {
    return this.fleet.setEnabled(name, enabled);
  }

  async removeNode(name: string): Promise<boolean> {
    return this.fleet.remove(name, (ids) => this.queue.recount(ids));
  }

  async dispatchPending(now: number, limit: number): Promise<number> {
    return this.queue.dispatch(now, limit);
  }

  async dispatchAndClaim(owner: string, now: number, leaseMs: number, limit: number, max: number): Promise<{ dispatched: number; claimed: ClaimedAttempt[] }> {
    return this.queue.dispatchAndClaim(now, limit, { owner, leaseMs, max });
  }

  async claimAttempts(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAttempt[]> {
    return this.queue.claim(owner, now, leaseMs, limit);
  }

  async reapLeases(now: number): Promise<number> {
    return this.queue.reap(now);
  }

  async renewLeases(leases: string[], until: number): Promise<void> {
    if (leases.length > 0) this.queue.renew(leases, until);
  }

  async recordOutcomes(now: number, results: AttemptResult[]): Promise<void> {
    this.queue.record(now, results);
  }

  async attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<NodeAttemptRow[]> {
    return this.queue.attemptsOfTasks(accountId, product, taskIds, from);
  }

  async countOpenTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<number> {
    return this.queue.openTasks(accountId, product, taskIds, from);
  }

  onWork(listener: () => void): () => void {
    this.workListeners.add(listener);
    return () => this.workListeners.delete(listener);
  }

  async queryItems(q: ItemQuery): Promise<{ total: number; rows: ItemRow[] }> {
    return this.tasks.query(q);
  }

  async itemsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<ItemRow[]> {
    return this.tasks.ofTasks(accountId, product, taskIds, from);
  }

  async usage(buckets: string[]): Promise<Record<string, number>> {
    return this.tasks.usage(buckets);
  }

  async finishTasks(now: number, limit: number, after?: string): Promise<FinishScan> {
    return this.webhooks.finish(now, limit, after);
  }

  async setWebhook(accountId: number, hook: { url: string; secretCipher: string } | null, now: number): Promise<boolean> {
    return this.webhooks.setHook(accountId, hook, now);
  }

  async getWebhook(accountId: number): Promise<Webhook | undefined> {
    return this.webhooks.hook(accountId);
  }

  async claimDeliveries(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    return this.webhooks.claim(owner, now, leaseMs, limit);
  }

  async recordDelivery(now: number, id: number, lease: string, result: DeliveryResult): Promise<boolean> {
    return this.webhooks.record(now, id, lease, result);
  }

  async listDeliveries(accountId: number, limit: number): Promise<WebhookDelivery[]> {
    return this.webhooks.list(accountId, limit);
  }

  /**
   * Retention by id ranges, never a table scan: ids grow with time, so everything older than
   * `before` is every task below the first task created at or after it (tasks_created index),
   * every item of those tasks (items_task index) and every attempt below the oldest item left.
   * Webhook deliveries go by their time index. Audit records older than `auditBefore` go by
   * their time index, in their own statement.
   */
  async sweep(before: number, now: number, auditBefore?: number): Promise<{ items: number; audit: number }> {
    this.nonces.sweep(now);
    const audit = auditBefore === undefined ? 0 : this.identity.sweepAudit(auditBefore);
    const { items } = this.db.transaction(() => {
      const { t } = this.db.prepare('SELECT MIN(id) AS t FROM tasks WHERE created_at >= ?').get(before) as { t: number | null };
      const boundary = t ?? Number.MAX_SAFE_INTEGER;
      subtractItemCounts(this.db, 0, boundary);
      const items = this.db.prepare('DELETE FROM items WHERE task_id < ?').run(boundary).changes;
      this.db.prepare('DELETE FROM tasks WHERE id < ?').run(boundary);
      const { i } = this.db.prepare('SELECT MIN(id) AS i FROM items').get() as { i: number | null };
      this.db.prepare('DELETE FROM node_attempts WHERE item_id < ?').run(i ?? Number.MAX_SAFE_INTEGER);
      this.db.prepare('DELETE FROM usage_counters WHERE expires_at < ?').run(now);
      this.webhooks.sweep(before);
      return { items };
    })();
    return { items, audit };
  }

  /** Recompute item_counts from items: for loaders that write items directly (the benchmark's). */
  rebuildItemCounts(): void {
    this.db.transaction(() => this.db.exec(REBUILD_ITEM_COUNTS))();
  }

  /** For tests and the benchmark loader: direct access to the database. */
  get raw(): Database.Database {
    return this.db;
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`store schema version ${current} is newer than this refreshd (${MIGRATIONS.length}); upgrade refreshd`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

function prepare(db: Database.Database) {
  return {
    insertAccount: db.prepare('INSERT INTO accounts (uid, name, created_at) VALUES (?, ?, ?)'),
    accountById: db.prepare('SELECT * FROM accounts WHERE id = ?'),
    accountByName: db.prepare('SELECT * FROM accounts WHERE name = ?'),
    allAccounts: db.prepare('SELECT * FROM accounts ORDER BY id'),
    insertDomain: db.prepare('INSERT INTO domains (name, account_id, product, origin, online, node_group, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    domainByName: db.prepare('SELECT * FROM domains WHERE name = ?'),
    allDomains: db.prepare('SELECT * FROM domains ORDER BY name'),
    domainsOfAccount: db.prepare('SELECT * FROM domains WHERE account_id = ? ORDER BY name'),
    setDomainOnline: db.prepare('UPDATE domains SET online = ? WHERE name = ?'),
  };
}

type Row = Record<string, unknown>;

function toAccount(r: unknown): Account | undefined {
  if (!r) return undefined;
  const x = r as Row;
  return {
    id: x.id as number, uid: x.uid as string, name: x.name as string, createdAt: x.created_at as number,
    services: { cdn: x.cdn_service as ServiceState, vod: x.vod_service as ServiceState },
  };
}

function toDomain(r: unknown): Domain | undefined {
  if (!r) return undefined;
  const x = r as Row;
  return {
    name: x.name as string, accountId: x.account_id as number, product: x.product as Product,
    origin: (x.origin as string | null) ?? null, online: x.online === 1, nodeGroup: x.node_group as string, createdAt: x.created_at as number,
  };
}
