import type { Product } from '../../spec/types.js';
import type { AuditEntry, AuditQuery, AuditRecord, AuditStore } from '../port.js';
import type { Row, Sql } from './rows.js';

/** The audit log of the PostgreSQL store, appended to by every API process. */
export class PgAudit implements AuditStore {
  constructor(private readonly sql: Sql) {}

  /** One multi-row INSERT per batch. */
  async appendAudit(records: AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map((r) => ({
      at: r.at, request_id: r.requestId, account_id: r.accountId, user_name: r.userName, access_key_id: r.accessKeyId,
      source_ip: r.sourceIp, product: r.product, action: r.action, params: r.params, status: r.status, code: r.code,
    }));
    await this.sql`INSERT INTO audit_log ${this.sql(rows)}`;
  }

  async queryAudit(q: AuditQuery): Promise<AuditEntry[]> {
    const sql = this.sql;
    const filters = [];
    if (q.accountId !== undefined) filters.push(sql`AND account_id = ${q.accountId}`);
    if (q.action !== undefined) filters.push(sql`AND action = ${q.action}`);
    if (q.since !== undefined) filters.push(sql`AND at >= ${q.since}`);
    if (q.until !== undefined) filters.push(sql`AND at < ${q.until}`);
    const rows = await sql`SELECT * FROM audit_log WHERE true ${filters.length > 0 ? filters : sql``} ORDER BY at DESC, id DESC LIMIT ${q.limit}`;
    return rows.map(toAudit);
  }

  /** Retention (ops.sweep): records older than `before`, by their time index. */
  async sweep(before: number): Promise<number> {
    return (await this.sql`DELETE FROM audit_log WHERE at < ${before}`).count;
  }
}

function toAudit(x: Row): AuditEntry {
  return {
    id: x.id as number, at: x.at as number, requestId: x.request_id as string, accountId: (x.account_id as number | null) ?? null,
    userName: (x.user_name as string | null) ?? null, accessKeyId: (x.access_key_id as string | null) ?? null,
    sourceIp: x.source_ip as string, product: (x.product as Product | null) ?? null, action: (x.action as string | null) ?? null,
    params: x.params as string, status: x.status as number, code: (x.code as string | null) ?? null,
  };
}
