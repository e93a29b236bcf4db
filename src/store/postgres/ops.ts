import type { Product } from '../../spec/types.js';
import type { QueueStats, StoreHealth, StoreOps } from '../port.js';
import type { PgAudit } from './audit.js';
import { MIGRATIONS } from './migrations.js';
import type { PgOutbox } from './outbox.js';
import type { DayPartitions } from './partitions.js';
import type { Sql } from './rows.js';

/** Rate-window rows older than this many seconds are deleted by sweep. */
const RATE_WINDOW_KEEP_S = 60;

/** Health, queue figures, usage totals and retention on PostgreSQL. */
export class PgOps implements StoreOps {
  constructor(
    private readonly sql: Sql,
    private readonly partitions: DayPartitions,
    private readonly parts: { audit: PgAudit; outbox: PgOutbox },
  ) {}

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

  /**
   * Retention: whole day partitions before `before` are dropped and the day it cuts through is
   * trimmed by created_at (partitions.ts), so no statement visits the whole items table. Tasks
   * and webhook deliveries go by their created_at indexes; expired counters, ClientTokens, nonces
   * and old rate windows follow. Audit records go by their indexed time (kept longer: auditRetentionDays).
   */
  async sweep(before: number, now: number, auditBefore?: number): Promise<{ items: number; audit: number }> {
    const items = await this.partitions.dropBefore(this.sql, before);
    const audit = auditBefore === undefined ? 0 : await this.parts.audit.sweep(auditBefore);
    await this.sql`DELETE FROM tasks WHERE created_at < ${before}`;
    await this.parts.outbox.sweep(before);
    await this.sql`DELETE FROM usage_counters WHERE expires_at < ${now}`;
    await this.sql`DELETE FROM client_tokens WHERE expires_at <= ${now}`;
    await this.sql`DELETE FROM nonces WHERE expires_at < ${now}`;
    await this.sql`DELETE FROM rate_windows WHERE second < ${Math.floor(now / 1000) - RATE_WINDOW_KEEP_S}`;
    await this.partitions.prepare(this.sql, now);
    return { items, audit };
  }
}
