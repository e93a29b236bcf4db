import type Database from 'better-sqlite3';
import { pathHash } from '../path-hash.js';
import { leaseToken } from '../lease-token.js';
import type { Product } from '../../spec/types.js';
import type { CanceledTask, ClaimedAttempt, SubmitBatch, SubmitOutcome, TaskStore } from '../port.js';
import { validTaskIds } from '../task-ids.js';
import { SqliteCancel } from './cancel.js';
import { SqliteClientTokens } from './client-tokens.js';
import { ItemReads } from './item-reads.js';
import { joinVerifyUrls } from '../verify-urls.js';
import { SqliteProgress } from './progress.js';
import { SubmitDispatch } from './submit-dispatch.js';
import type { WalSync } from './wal-sync.js';

/**
 * The tasks role on SQLite: the submit transaction and usage counters here, the reads in
 * item-reads.ts.
 */
export class SqliteTasks extends ItemReads implements TaskStore {
  private readonly stmt;
  private readonly dispatch: SubmitDispatch;
  private readonly progress: SqliteProgress;
  private readonly tokens: SqliteClientTokens;
  private readonly canceler: SqliteCancel;
  /** The two settings submit switches between, prepared once (db.pragma() compiles each time). */
  private readonly syncNormal: Database.Statement;
  private readonly syncFull: Database.Statement;

  /** `walSync`: the group commit (wal-sync.ts); absent when the file is not in WAL mode (`:memory:`). */
  constructor(db: Database.Database, private readonly walSync: WalSync | undefined) {
    super(db);
    this.progress = new SqliteProgress(db);
    this.dispatch = new SubmitDispatch(db);
    this.tokens = new SqliteClientTokens(db);
    this.canceler = new SqliteCancel(db, this.progress);
    this.syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.syncFull = db.prepare('PRAGMA synchronous = FULL');
    this.stmt = {
      usageOf: db.prepare('SELECT used FROM usage_counters WHERE bucket = ?'),
      consume: db.prepare(
        'INSERT INTO usage_counters (bucket, used, expires_at) VALUES (?, ?, ?) ON CONFLICT(bucket) DO UPDATE SET used = used + excluded.used',
      ),
      openPreloads: db.prepare(
        "SELECT count(*) AS n FROM items WHERE account_id = ? AND product = ? AND object_type = 'preload' AND status IN ('Pending', 'Refreshing')",
      ),
      insertTask: db.prepare(
        `INSERT INTO tasks (account_id, product, domain, object_type, force, area, l2_preload, with_header, verify_urls, item_count, created_at, preload_after)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
  }


  /**
   * Commit at synchronous=NORMAL and return at once; `durable()` waits for the WAL flush (the
   * caller answers only after it), so the leased attempts can start while the disk flushes
   * (wal-sync.ts).
   */
  async submit(batch: SubmitBatch): Promise<SubmitOutcome> {
    const run = () => this.write(batch);
    const outcome = this.walSync ? this.unsynced(run) : run();
    if (!outcome.ok) return outcome;
    const walSync = this.walSync;
    return { ...outcome, durable: walSync ? () => walSync.sync() : async () => {} };
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

  /**
   * Check every consumption and the preload queue, then write tasks and items: one transaction.
   * With `batch.lease`, the first items that fit are written dispatched and their attempts
   * leased (submit-dispatch.ts); `waiting` says how many items are left for the workers' dispatch.
   */
  private readonly write = (batch: SubmitBatch): Written =>
    this.db.transaction((): Written => {
      const claim = batch.clientToken;
      const earlier = claim && this.tokens.answer(batch.accountId, claim, batch.createdAt);
      if (earlier) return earlier;
      for (const c of batch.consume) {
        const row = this.stmt.usageOf.get(c.bucket) as { used: number } | undefined;
        if ((row?.used ?? 0) + c.amount > c.limit) return { ok: false, exceeded: c.bucket };
      }
      if (batch.preloadQueueLimit !== undefined) {
        const adding = batch.tasks.reduce((n, t) => n + t.paths.length, 0);
        const { n } = this.stmt.openPreloads.get(batch.accountId, batch.product) as { n: number };
        if (n + adding > batch.preloadQueueLimit) return { ok: false, queueFull: true };
      }
      for (const c of batch.consume) this.stmt.consume.run(c.bucket, c.amount, c.expiresAt);
      const lease = batch.lease;
      let room = lease && this.dispatch.open(batch.createdAt) ? lease.room : 0;
      const token = room > 0 ? leaseToken(lease!.owner) : '';
      const taskIds: string[] = [];
      const leased: ClaimedAttempt[] = [];
      let waiting = 0;
      for (const t of batch.tasks) {
        const id = Number(
          this.stmt.insertTask.run(
            batch.accountId, batch.product, t.domain, t.objectType, t.force ? 1 : 0, t.area,
            t.l2Preload ? 1 : 0, t.withHeader, joinVerifyUrls(t.verifyUrls), t.paths.length, batch.createdAt, t.preloadAfter ? 1 : 0,
          ).lastInsertRowid,
        );
        const scope = room > 0 ? this.dispatch.scope(t, room) : undefined;
        const take = scope?.take ?? 0;
        if (scope) {
          const ids: number[] = [];
          for (let i = 0; i < take; i++) {
            const p = t.paths[i];
            ids.push(this.progress.insertDispatched(id, batch.accountId, batch.product, t.domain, t.objectType, p, pathHash(p), batch.createdAt, scope.nodes.length));
          }
          leased.push(...this.dispatch.lease(batch, t, id, ids, scope, lease!, token));
        }
        for (let i = take; i < t.paths.length; i++) {
          const p = t.paths[i];
          this.progress.insertItem(id, batch.accountId, batch.product, t.domain, t.objectType, p, pathHash(p), batch.createdAt);
        }
        if (scope) room -= take * scope.nodes.length;
        // Items left for dispatch keep their turn: no later task of the batch goes ahead of them.
        if (take < t.paths.length) room = 0;
        waiting += t.paths.length - take;
        taskIds.push(String(id));
      }
      if (claim) this.tokens.record(batch.accountId, claim, taskIds, batch.createdAt);
      return { ok: true, taskIds, leased, waiting };
    }).immediate();

  async cancelTasks(accountId: number, product: Product, taskIds: string[], from: number, now: number): Promise<CanceledTask[]> {
    const ids = validTaskIds(taskIds).map(Number);
    if (ids.length === 0) return [];
    const walSync = this.walSync;
    const unsynced = walSync ? <T>(run: () => T) => this.unsynced(run) : <T>(run: () => T) => run();
    return this.canceler.cancel(accountId, product, ids, from, now, unsynced, walSync ? () => walSync.sync() : async () => {});
  }

  async usage(buckets: string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const b of buckets) out[b] = (this.stmt.usageOf.get(b) as { used: number } | undefined)?.used ?? 0;
    return out;
  }
}

/** A submit's result before the flush. */
type Written = Exclude<SubmitOutcome, { ok: true }> | Omit<Extract<SubmitOutcome, { ok: true }>, 'durable'>;
