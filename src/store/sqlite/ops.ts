import type Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import type { QueueStats, StoreHealth, StoreOps } from '../port.js';
import type { SqliteAudit } from './audit.js';
import type { SqliteGuards } from './guards.js';
import { MIGRATIONS } from './migrations.js';
import type { SqliteOutbox } from './outbox.js';
import { forgetTasks } from './progress.js';
import { deleteBelow } from './sweep-steps.js';

/** Health, queue figures, usage totals and retention on SQLite. */
export class SqliteOps implements StoreOps {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly parts: { guards: SqliteGuards; audit: SqliteAudit; outbox: SqliteOutbox },
  ) {
    this.s = {
      firstKeptTask: db.prepare('SELECT MIN(id) FROM tasks WHERE created_at >= ?').pluck(),
      // The first item of the first task kept (items_task is ordered by task, then id).
      firstItemOf: db.prepare('SELECT id FROM items WHERE task_id >= ? ORDER BY task_id, id LIMIT 1').pluck(),
      oldestItem: db.prepare('SELECT MIN(id) FROM items').pluck(),
    };
  }

  async health(): Promise<StoreHealth> {
    return { schemaVersion: this.db.pragma('user_version', { simple: true }) as number, expectedVersion: MIGRATIONS.length };
  }

  /** Counted through the partial indexes: leased and ready attempts, undispatched items. */
  async queueStats(): Promise<QueueStats> {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      undispatched: one('SELECT count(*) AS n FROM items WHERE nodes_total IS NULL'),
      pending: one("SELECT count(*) AS n FROM node_attempts WHERE state = 'pending' AND lease_owner IS NULL"),
      leased: one('SELECT count(*) AS n FROM node_attempts WHERE lease_owner IS NOT NULL'),
    };
  }

  /** Daily buckets are `day:<yyyy-mm-dd>:<account>:<product>:<kind>` (domain/quota.ts). */
  async usageTotals(day: string): Promise<{ product: Product; kind: string; used: number }[]> {
    const rows = this.db.prepare('SELECT bucket, used FROM usage_counters WHERE bucket >= ? AND bucket < ?').all(`day:${day}:`, `day:${day};`) as { bucket: string; used: number }[];
    const totals = new Map<string, number>();
    for (const r of rows) {
      const [, , , product, kind] = r.bucket.split(':');
      totals.set(`${product}:${kind}`, (totals.get(`${product}:${kind}`) ?? 0) + r.used);
    }
    return [...totals].map(([k, used]) => ({ product: k.split(':')[0] as Product, kind: k.split(':')[1], used }));
  }

  /**
   * Retention by id ranges, never a table scan: ids grow with time, so everything older than
   * `before` is every task below the first task created at or after it (tasks_created index),
   * every item of those tasks (items_task index) and every attempt below the oldest item kept.
   * Expired nonces, audit records older than `auditBefore`, ClientTokens and webhook deliveries go
   * by their time indexes.
   *
   * Each table goes in steps of ~2,000 rows, each its own transaction, the event loop free between
   * them (sweep-steps.ts): a busy server's ten minutes of nonces and audit records are millions of
   * rows, which one statement each deleted while every API call waited. Between two steps a task
   * past retention can be partly gone; it is outside every query window by then (retentionDays ≥
   * queryWindowDays). Attempts go before their items, so the worker never reads an attempt whose
   * item is gone; a last pass takes any attempt left below the oldest item kept.
   */
  async sweep(before: number, now: number, auditBefore?: number): Promise<{ items: number; audit: number }> {
    await this.parts.guards.nonces.sweep(now);
    const audit = auditBefore === undefined ? 0 : await this.parts.audit.sweep(auditBefore);
    const boundary = (this.s.firstKeptTask.get(before) as number | null) ?? Number.MAX_SAFE_INTEGER;
    const firstKeptItem = (this.s.firstItemOf.get(boundary) as number | undefined) ?? Number.MAX_SAFE_INTEGER;
    await deleteBelow(this.db, 'node_attempts', 'item_id', firstKeptItem);
    const items = await deleteBelow(this.db, 'items', 'task_id', boundary, {
      inStep: (lastTask) => forgetTasks(this.db, 0, lastTask + 1),
    });
    await deleteBelow(this.db, 'tasks', 'id', boundary);
    await deleteBelow(this.db, 'node_attempts', 'item_id', (this.s.oldestItem.get() as number | null) ?? Number.MAX_SAFE_INTEGER);
    await deleteBelow(this.db, 'client_tokens', 'expires_at', now + 1);
    await this.parts.outbox.sweep(before);
    // No time index: one row per quota or rate bucket, a few per account and minute.
    this.db.prepare('DELETE FROM usage_counters WHERE expires_at < ?').run(now);
    return { items, audit };
  }
}
