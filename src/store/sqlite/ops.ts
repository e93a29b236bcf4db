import type Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import type { QueueStats, StoreHealth, StoreOps } from '../port.js';
import type { SqliteAudit } from './audit.js';
import type { SqliteGuards } from './guards.js';
import { MIGRATIONS } from './migrations.js';
import type { SqliteOutbox } from './outbox.js';
import { forgetTasks } from './progress.js';

/** Health, queue figures, usage totals and retention on SQLite. */
export class SqliteOps implements StoreOps {
  constructor(
    private readonly db: Database.Database,
    private readonly parts: { guards: SqliteGuards; audit: SqliteAudit; outbox: SqliteOutbox },
  ) {}

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
   * every item of those tasks (items_task index) and every attempt below the oldest item left.
   * Expired counters and ClientTokens, and webhook deliveries, go by their time indexes. Audit records older than `auditBefore` go by
   * their time index, in their own statement.
   */
  async sweep(before: number, now: number, auditBefore?: number): Promise<{ items: number; audit: number }> {
    this.parts.guards.nonces.sweep(now);
    const audit = auditBefore === undefined ? 0 : this.parts.audit.sweep(auditBefore);
    const { items } = this.db.transaction(() => {
      const { t } = this.db.prepare('SELECT MIN(id) AS t FROM tasks WHERE created_at >= ?').get(before) as { t: number | null };
      const boundary = t ?? Number.MAX_SAFE_INTEGER;
      forgetTasks(this.db, 0, boundary);
      const items = this.db.prepare('DELETE FROM items WHERE task_id < ?').run(boundary).changes;
      this.db.prepare('DELETE FROM tasks WHERE id < ?').run(boundary);
      const { i } = this.db.prepare('SELECT MIN(id) AS i FROM items').get() as { i: number | null };
      this.db.prepare('DELETE FROM node_attempts WHERE item_id < ?').run(i ?? Number.MAX_SAFE_INTEGER);
      this.db.prepare('DELETE FROM usage_counters WHERE expires_at < ?').run(now);
      this.db.prepare('DELETE FROM client_tokens WHERE expires_at <= ?').run(now);
      this.parts.outbox.sweep(before);
      return { items };
    })();
    return { items, audit };
  }
}
