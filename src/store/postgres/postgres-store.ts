import { randomUUID } from 'node:crypto';
import type { Product } from '../../spec/types.js';
import type {
  QueueStats, StoreHealth,
  AccessKey, Account, AttemptResult, AuditEntry, AuditQuery, AuditRecord, CacheNode, ClaimedAttempt, Domain, DomainChanges, NodeGroup, ItemQuery, ItemRow, LocalTaker,
  NodeAttemptRow, Policy, RamUser, ServiceState, StoreCapabilities, SubmitBatch, SubmitOutcome, TaskStore,
  ClaimedDelivery, DeliveryResult, FinishScan, Webhook, WebhookDelivery,
} from '../port.js';
import { LocalTakers } from '../local-takers.js';
import { PgFleet } from './fleet.js';
import { PgIdentity } from './identity.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { DayPartitions } from './partitions.js';
import { PgQueue } from './queue.js';
import { connect, toAccount, toDomain, type Sql } from './rows.js';
import { PgTasks, WORK_CHANNEL } from './tasks.js';
import { PgWebhooks } from './webhooks.js';

/** Rate-window rows older than this many seconds are deleted by sweep. */
const RATE_WINDOW_KEEP_S = 60;

/**
 * The TaskStore on PostgreSQL: many API and worker processes, on many hosts, share one database.
 * What SQLite keeps in process memory (signature nonces, rate windows, "work is ready" wakeups)
 * lives in the database here — nonce and rate-window tables, LISTEN/NOTIFY — and every limit is
 * checked under a row or advisory lock, so it holds across processes, not just within one.
 */
export class PostgresStore implements TaskStore {
  readonly capabilities: StoreCapabilities = { sharedAcrossProcesses: true };
  /** Names this instance in NOTIFY payloads, so it does not wake its own listeners twice. */
  private readonly instance = randomUUID();
  private readonly partitions = new DayPartitions();
  private readonly tasks: PgTasks;
  private readonly queue: PgQueue;
  private readonly fleet: PgFleet;
  private readonly identity: PgIdentity;
  private readonly webhooks: PgWebhooks;
  private readonly workListeners = new Set<() => void>();
  private readonly takers = new LocalTakers();
  private unlisten: (() => Promise<void>) | undefined;

  private constructor(private readonly sql: Sql) {
    this.tasks = new PgTasks(sql, this.partitions, this.instance);
    this.queue = new PgQueue(sql);
    this.fleet = new PgFleet(sql);
    this.identity = new PgIdentity(sql);
    this.webhooks = new PgWebhooks(sql);
  }

  /** Connect, migrate (safe when several processes start at once), and listen for new work. */
  static async open(url: string, options: { max?: number } = {}): Promise<PostgresStore> {
    const sql = connect(url, options);
    try {
      await migrate(sql);
      const store = new PostgresStore(sql);
      await store.partitions.prepare(sql, Date.now());
      const listening = await sql.listen(WORK_CHANNEL, (payload) => store.wake(payload));
      store.unlisten = () => listening.unlisten();
      return store;
    } catch (err) {
      await sql.end({ timeout: 5 });
      throw err;
    }
  }

  async health(): Promise<StoreHealth> {
    const [{ v }] = await this.sql<{ v: number | null }[]>`SELECT max(version) AS v FROM schema_migrations`;
    return { schemaVersion: v ?? 0, expectedVersion: MIGRATIONS.length };
  }

  async queueStats(): Promise<QueueStats> {
    const [r] = await this.sql<{ undispatched: number; pending: number; leased: number }[]>`
      SELECT (SELECT count(*) FROM items WHERE nodes_total IS NULL)::int AS undispatched,
             (SELECT count(*) FROM node_attempts WHERE state = 'pending' AND lease_owner IS NULL)::int AS pending,
             (SELECT count(*) FROM node_attempts WHERE lease_owner IS NOT NULL)::int AS leased`;
    return { undispatched: r.undispatched, pending: r.pending, leased: r.leased };
  }

  /** Daily buckets are `day:<yyyy-mm-dd>:<account>:<product>:<kind>` (domain/quota.ts). */
  async usageTotals(day: string): Promise<{ product: Product; kind: string; used: number }[]> {
    const rows = await this.sql<{ product: Product; kind: string; used: number }[]>`
      SELECT split_part(bucket, ':', 4) AS product, split_part(bucket, ':', 5) AS kind, sum(used)::int AS used
        FROM usage_counters WHERE bucket >= ${`day:${day}:`} AND bucket < ${`day:${day};`}
       GROUP BY 1, 2 ORDER BY 1, 2`;
    return rows.map((r) => ({ product: r.product, kind: r.kind, used: r.used }));
  }

  async close(): Promise<void> {
    this.workListeners.clear();
    await this.unlisten?.().catch(() => {});
    await this.sql.end({ timeout: 5 });
  }

  /** For tests and tools: the connection pool. */
  get raw(): Sql {
    return this.sql;
  }

  async createAccount(input: { uid: string; name: string; createdAt: number }): Promise<Account> {
    const [row] = await this.sql`INSERT INTO accounts (uid, name, created_at) VALUES (${input.uid}, ${input.name}, ${input.createdAt}) RETURNING *`;
    return toAccount(row)!;
  }

  async getAccount(id: number): Promise<Account | undefined> {
    return toAccount((await this.sql`SELECT * FROM accounts WHERE id = ${id}`)[0]);
  }

  async findAccountByName(name: string): Promise<Account | undefined> {
    return toAccount((await this.sql`SELECT * FROM accounts WHERE name = ${name}`)[0]);
  }

  async setServiceState(accountId: number, product: Product, state: ServiceState): Promise<void> {
    const column = product === 'cdn' ? 'cdn_service' : 'vod_service';
    await this.sql`UPDATE accounts SET ${this.sql.unsafe(column)} = ${state} WHERE id = ${accountId}`;
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.sql`SELECT * FROM accounts ORDER BY id`).map((r) => toAccount(r)!);
  }

  async createAccessKey(k: AccessKey): Promise<void> {
    await this.identity.createKey(k);
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
    await this.identity.appendAudit(records);
  }

  async queryAudit(q: AuditQuery): Promise<AuditEntry[]> {
    return this.identity.queryAudit(q);
  }

  /**
   * One statement, exact under concurrency: a new nonce inserts; a used one whose expiry has
   * passed is taken over (the update returns a row); a live one conflicts and returns nothing.
   */
  async useNonce(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const rows = await this.sql`
      INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (${accessKeyId}, ${nonce}, ${expiresAt})
      ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at
       WHERE nonces.expires_at < ${Date.now()}::bigint
      RETURNING 1`;
    return rows.length > 0;
  }

  /**
   * Fixed one-second windows as (key, second) counter rows. The upsert increments only while
   * under the limit and row-locks while it does, so N processes together allow exactly
   * `perSecond` calls per key per second; no row back means refused.
   */
  async takeRate(key: string, perSecond: number, now: number): Promise<number> {
    const second = Math.floor(now / 1000);
    const rows = await this.sql`
      INSERT INTO rate_windows (key, second, count) VALUES (${key}, ${second}, 1)
      ON CONFLICT (key, second) DO UPDATE SET count = rate_windows.count + 1
       WHERE rate_windows.count < ${perSecond}::int
      RETURNING count`;
    return rows.length > 0 ? 0 : (second + 1) * 1000 - now;
  }

  async addDomain(d: Domain): Promise<void> {
    await this.sql`
      INSERT INTO domains (name, account_id, product, origin, online, node_group, created_at)
      VALUES (${d.name}, ${d.accountId}, ${d.product}, ${d.origin}, ${d.online}, ${d.nodeGroup}, ${d.createdAt})`;
  }

  async findDomain(name: string): Promise<Domain | undefined> {
    return toDomain((await this.sql`SELECT * FROM domains WHERE name = ${name}`)[0]);
  }

  async listDomains(accountId?: number): Promise<Domain[]> {
    const rows = accountId === undefined
      ? await this.sql`SELECT * FROM domains ORDER BY name`
      : await this.sql`SELECT * FROM domains WHERE account_id = ${accountId} ORDER BY name`;
    return rows.map((r) => toDomain(r)!);
  }

  async setDomainOnline(name: string, online: boolean): Promise<boolean> {
    return (await this.sql`UPDATE domains SET online = ${online} WHERE name = ${name}`).count > 0;
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
    return this.fleet.remove(name);
  }

  async dispatchPending(now: number, limit: number): Promise<number> {
    return (await this.queue.dispatch(now, limit)).dispatched;
  }

  async dispatchAndClaim(owner: string, now: number, leaseMs: number, limit: number, max: number): Promise<{ dispatched: number; claimed: ClaimedAttempt[] }> {
    return this.queue.dispatch(now, limit, { owner, leaseMs, max });
  }

  async claimAttempts(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedAttempt[]> {
    return this.queue.claim(owner, now, leaseMs, limit);
  }

  async reapLeases(now: number): Promise<number> {
    return this.queue.reap(now);
  }

  async renewLeases(leases: string[], until: number): Promise<void> {
    if (leases.length > 0) await this.queue.renew(leases, until);
  }

  async recordOutcomes(now: number, results: AttemptResult[]): Promise<void> {
    await this.queue.record(now, results);
  }

  async attemptsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<NodeAttemptRow[]> {
    return this.queue.attemptsOfTasks(accountId, product, taskIds, from);
  }

  async countOpenTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<number> {
    return this.queue.openTasks(accountId, product, taskIds, from);
  }

  /**
   * Listeners run when any process commits a submit: the submit's transaction NOTIFYs, and
   * every store LISTENs on a dedicated connection (postgres.js re-listens after a reconnect).
   * This process's own submits wake its listeners directly, without waiting for the round trip.
   */
  onWork(listener: () => void): () => void {
    this.workListeners.add(listener);
    return () => this.workListeners.delete(listener);
  }

  /** `from`: the NOTIFY payload; absent for this process's own submits. */
  private wake(from?: string): void {
    if (from === this.instance) return;
    for (const listener of this.workListeners) {
      if (from === undefined) listener();
      else {
        // Called from the LISTEN connection's data handler: a throwing listener must not break it.
        try { listener(); } catch (err) { queueMicrotask(() => { throw err; }); }
      }
    }
  }

  /**
   * With a worker of this process attached (attachTaker), the submit's transaction also
   * dispatches, oldest first, the undispatched items that fit in its room, leased to it; the
   * worker gets them once the submit commits. Items that do not fit wait for any worker's dispatch.
   */
  async submit(batch: SubmitBatch): Promise<SubmitOutcome> {
    // The room is set aside until the worker has what was leased to it: submits run concurrently.
    const reserved = this.takers.reserve();
    try {
      let claimed: ClaimedAttempt[] = [];
      const items = batch.tasks.reduce((n, t) => n + t.paths.length, 0);
      const outcome = await this.tasks.submit(batch, reserved && (async (tx) => {
        const { taker, room } = reserved;
        const lease = { owner: taker.owner, leaseMs: taker.leaseMs, max: room, onlyLeased: true };
        claimed = (await this.queue.dispatchIn(tx, batch.createdAt, items, lease)).claimed;
      }));
      if (!outcome.ok) return outcome;
      if (claimed.length > 0) {
        try {
          reserved!.taker.take(claimed);
        } catch {
          // Not running after all: the attempts stay leased until the lease runs out, then any worker takes them.
        }
      }
      this.wake();
      return outcome;
    } finally {
      reserved?.release();
    }
  }

  attachTaker(taker: LocalTaker): () => void {
    return this.takers.attach(taker);
  }

  async queryItems(q: ItemQuery): Promise<{ total: number; rows: ItemRow[] }> {
    return this.tasks.queryItems(q);
  }

  async itemsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<ItemRow[]> {
    return this.tasks.itemsOfTasks(accountId, product, taskIds, from);
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
   * Retention: whole day partitions before `before` are dropped and the day it cuts through is
   * trimmed by created_at (partitions.ts), so no statement visits the whole items table. Tasks
   * and webhook deliveries go by their created_at indexes; expired counters, nonces and old rate
   * windows follow. Audit
   * records go by their indexed time (kept longer: auditRetentionDays).
   */
  async sweep(before: number, now: number, auditBefore?: number): Promise<{ items: number; audit: number }> {
    const items = await this.partitions.dropBefore(this.sql, before);
    const audit = auditBefore === undefined ? 0 : await this.identity.sweepAudit(auditBefore);
    await this.sql`DELETE FROM tasks WHERE created_at < ${before}`;
    await this.webhooks.sweep(before);
    await this.sql`DELETE FROM usage_counters WHERE expires_at < ${now}`;
    await this.sql`DELETE FROM nonces WHERE expires_at < ${now}`;
    await this.sql`DELETE FROM rate_windows WHERE second < ${Math.floor(now / 1000) - RATE_WINDOW_KEEP_S}`;
    await this.partitions.prepare(this.sql, now);
    return { items, audit };
  }
}
