import type Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import type { AuditEntry, AuditQuery, AuditRecord, AuditStore } from '../port.js';
import { deleteBelow } from './sweep-steps.js';

/**
 * The audit log of the SQLite store. Batches are appended through `auditDb`, the store's
 * synchronous=NORMAL connection: an fsync per batch (~5 ms here, blocking the event loop) cost
 * a quarter of the API's throughput; without it a batch costs ~10 µs a record. WAL keeps it
 * crash-safe, and the next FULL commit syncs it; only a power loss can take the last unsynced
 * batches.
 */
export class SqliteAudit implements AuditStore {
  private readonly insert;

  constructor(
    private readonly db: Database.Database,
    private readonly auditDb: Database.Database,
  ) {
    this.insert = auditDb.prepare(
      `INSERT INTO audit_log (at, request_id, account_id, user_name, access_key_id, source_ip, product, action, params, status, code)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** One transaction per batch, on the NORMAL connection (see above). */
  async appendAudit(records: AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.auditDb.transaction(() => {
      for (const r of records) {
        this.insert.run(r.at, r.requestId, r.accountId, r.userName, r.accessKeyId, r.sourceIp, r.product, r.action, r.params, r.status, r.code);
      }
    }).immediate();
  }

  async queryAudit(q: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.accountId !== undefined) (where.push('account_id = ?'), args.push(q.accountId));
    if (q.action !== undefined) (where.push('action = ?'), args.push(q.action));
    if (q.since !== undefined) (where.push('at >= ?'), args.push(q.since));
    if (q.until !== undefined) (where.push('at < ?'), args.push(q.until));
    const sql = `SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args, q.limit).map(toAudit);
  }

  /** Retention (ops.sweep): records older than `before`, by their time index, in steps. */
  sweep(before: number): Promise<number> {
    return deleteBelow(this.db, 'audit_log', 'at', before);
  }
}

type Row = Record<string, unknown>;

function toAudit(r: unknown): AuditEntry {
  const x = r as Row;
  return {
    id: x.id as number, at: x.at as number, requestId: x.request_id as string, accountId: (x.account_id as number | null) ?? null,
    userName: (x.user_name as string | null) ?? null, accessKeyId: (x.access_key_id as string | null) ?? null,
    sourceIp: x.source_ip as string, product: (x.product as Product | null) ?? null, action: (x.action as string | null) ?? null,
    params: x.params as string, status: x.status as number, code: (x.code as string | null) ?? null,
  };
}
