import type Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import type { AccessKey, AuditEntry, AuditQuery, AuditRecord, Policy, RamUser } from '../port.js';

/**
 * The identity and audit tables of the SQLite store (migration 3): AccessKeys with sealed
 * secrets, RAM users, policies and their attachments, the audit log and store metadata.
 *
 * Identity runs on the API connection (synchronous=FULL: a key change is on disk once made).
 * Audit batches are appended through `auditDb`, the store's synchronous=NORMAL connection: an
 * fsync per batch (~5 ms here, blocking the event loop) cost a quarter of the API's throughput;
 * without it a batch costs ~10 µs a record. WAL keeps it crash-safe, and the next FULL commit
 * syncs it; only a power loss can take the last unsynced batches.
 */
export class SqliteIdentity {
  private readonly s;
  private readonly insertAudit;

  constructor(
    private readonly db: Database.Database,
    private readonly auditDb: Database.Database,
  ) {
    this.insertAudit = auditDb.prepare(
      `INSERT INTO audit_log (at, request_id, account_id, user_name, access_key_id, source_ip, product, action, params, status, code)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.s = {
      insertKey: db.prepare('INSERT INTO access_keys (access_key_id, secret_cipher, account_id, user_name, active, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      keyById: db.prepare('SELECT * FROM access_keys WHERE access_key_id = ?'),
      keysOfAccount: db.prepare('SELECT * FROM access_keys WHERE account_id = ? ORDER BY created_at, access_key_id'),
      allKeys: db.prepare('SELECT * FROM access_keys ORDER BY created_at, access_key_id'),
      setKeyActive: db.prepare('UPDATE access_keys SET active = ? WHERE access_key_id = ?'),
      replaceCipher: db.prepare('UPDATE access_keys SET secret_cipher = ? WHERE access_key_id = ? AND secret_cipher = ?'),
      deleteKey: db.prepare('DELETE FROM access_keys WHERE access_key_id = ?'),
      deleteUserKeys: db.prepare('DELETE FROM access_keys WHERE account_id = ? AND user_name = ?'),
      insertUser: db.prepare('INSERT INTO ram_users (account_id, name, display_name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      userByName: db.prepare('SELECT * FROM ram_users WHERE account_id = ? AND name = ?'),
      usersOfAccount: db.prepare('SELECT * FROM ram_users WHERE account_id = ? ORDER BY name'),
      deleteUser: db.prepare('DELETE FROM ram_users WHERE account_id = ? AND name = ?'),
      insertPolicy: db.prepare('INSERT INTO policies (account_id, name, description, document, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      policyByName: db.prepare('SELECT * FROM policies WHERE account_id = ? AND name = ?'),
      policiesOfAccount: db.prepare('SELECT * FROM policies WHERE account_id = ? ORDER BY name'),
      deletePolicy: db.prepare('DELETE FROM policies WHERE account_id = ? AND name = ?'),
      attach: db.prepare('INSERT INTO policy_attachments (account_id, user_name, policy_name, attached_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      detach: db.prepare('DELETE FROM policy_attachments WHERE account_id = ? AND user_name = ? AND policy_name = ?'),
      policiesOfUser: db.prepare(
        `SELECT p.* FROM policy_attachments a JOIN policies p ON p.account_id = a.account_id AND p.name = a.policy_name
          WHERE a.account_id = ? AND a.user_name = ? ORDER BY p.name`,
      ),
      attachments: db.prepare('SELECT user_name, policy_name FROM policy_attachments WHERE account_id = ? ORDER BY user_name, policy_name'),
      sweepAudit: db.prepare('DELETE FROM audit_log WHERE at < ?'),
      insertMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      metaByName: db.prepare('SELECT value FROM meta WHERE name = ?'),
    };
  }

  createKey(k: AccessKey): void {
    this.s.insertKey.run(k.accessKeyId, k.secretCipher, k.accountId, k.userName, k.active ? 1 : 0, k.createdAt);
  }

  findKey(id: string): AccessKey | undefined {
    return toKey(this.s.keyById.get(id));
  }

  listKeys(accountId?: number): AccessKey[] {
    return (accountId === undefined ? this.s.allKeys.all() : this.s.keysOfAccount.all(accountId)).map((r) => toKey(r)!);
  }

  setKeyActive(id: string, active: boolean): boolean {
    return this.s.setKeyActive.run(active ? 1 : 0, id).changes > 0;
  }

  replaceCipher(id: string, expected: string, cipher: string): boolean {
    return this.s.replaceCipher.run(cipher, id, expected).changes > 0;
  }

  deleteKey(id: string): boolean {
    return this.s.deleteKey.run(id).changes > 0;
  }

  createUser(u: RamUser): boolean {
    return this.s.insertUser.run(u.accountId, u.name, u.displayName, u.createdAt).changes > 0;
  }

  findUser(accountId: number, name: string): RamUser | undefined {
    return toUser(this.s.userByName.get(accountId, name));
  }

  listUsers(accountId: number): RamUser[] {
    return this.s.usersOfAccount.all(accountId).map((r) => toUser(r)!);
  }

  /** Keys first, then the user; its attachments go by ON DELETE CASCADE. */
  removeUser(accountId: number, name: string): boolean {
    return this.db.transaction(() => {
      this.s.deleteUserKeys.run(accountId, name);
      return this.s.deleteUser.run(accountId, name).changes > 0;
    }).immediate();
  }

  createPolicy(p: Policy): boolean {
    return this.s.insertPolicy.run(p.accountId, p.name, p.description, p.document, p.createdAt).changes > 0;
  }

  findPolicy(accountId: number, name: string): Policy | undefined {
    return toPolicy(this.s.policyByName.get(accountId, name));
  }

  listPolicies(accountId: number): Policy[] {
    return this.s.policiesOfAccount.all(accountId).map((r) => toPolicy(r)!);
  }

  deletePolicy(accountId: number, name: string): boolean {
    return this.s.deletePolicy.run(accountId, name).changes > 0;
  }

  attach(accountId: number, userName: string, policyName: string, at: number): boolean {
    return this.s.attach.run(accountId, userName, policyName, at).changes > 0;
  }

  detach(accountId: number, userName: string, policyName: string): boolean {
    return this.s.detach.run(accountId, userName, policyName).changes > 0;
  }

  policiesOfUser(accountId: number, userName: string): Policy[] {
    return this.s.policiesOfUser.all(accountId, userName).map((r) => toPolicy(r)!);
  }

  attachments(accountId: number): { userName: string; policyName: string }[] {
    return (this.s.attachments.all(accountId) as { user_name: string; policy_name: string }[]).map((r) => ({ userName: r.user_name, policyName: r.policy_name }));
  }

  /** One transaction per batch, on the NORMAL connection (see above). */
  appendAudit(records: AuditRecord[]): void {
    if (records.length === 0) return;
    this.auditDb.transaction(() => {
      for (const r of records) {
        this.insertAudit.run(r.at, r.requestId, r.accountId, r.userName, r.accessKeyId, r.sourceIp, r.product, r.action, r.params, r.status, r.code);
      }
    }).immediate();
  }

  queryAudit(q: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.accountId !== undefined) (where.push('account_id = ?'), args.push(q.accountId));
    if (q.action !== undefined) (where.push('action = ?'), args.push(q.action));
    if (q.since !== undefined) (where.push('at >= ?'), args.push(q.since));
    if (q.until !== undefined) (where.push('at < ?'), args.push(q.until));
    const sql = `SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args, q.limit).map(toAudit);
  }

  sweepAudit(before: number): number {
    return this.s.sweepAudit.run(before).changes;
  }

  ensureMeta(name: string, value: string): string {
    this.s.insertMeta.run(name, value);
    return (this.s.metaByName.get(name) as { value: string }).value;
  }
}

type Row = Record<string, unknown>;

function toKey(r: unknown): AccessKey | undefined {
  if (!r) return undefined;
  const x = r as Row;
  return {
    accessKeyId: x.access_key_id as string, secretCipher: x.secret_cipher as string, accountId: x.account_id as number,
    userName: (x.user_name as string | null) ?? null, active: x.active === 1, createdAt: x.created_at as number,
  };
}

function toUser(r: unknown): RamUser | undefined {
  if (!r) return undefined;
  const x = r as Row;
  return { accountId: x.account_id as number, name: x.name as string, displayName: x.display_name as string, createdAt: x.created_at as number };
}

function toPolicy(r: unknown): Policy | undefined {
  if (!r) return undefined;
  const x = r as Row;
  return {
    accountId: x.account_id as number, name: x.name as string, description: x.description as string,
    document: x.document as string, createdAt: x.created_at as number,
  };
}

function toAudit(r: unknown): AuditEntry {
  const x = r as Row;
  return {
    id: x.id as number, at: x.at as number, requestId: x.request_id as string, accountId: (x.account_id as number | null) ?? null,
    userName: (x.user_name as string | null) ?? null, accessKeyId: (x.access_key_id as string | null) ?? null,
    sourceIp: x.source_ip as string, product: (x.product as Product | null) ?? null, action: (x.action as string | null) ?? null,
    params: x.params as string, status: x.status as number, code: (x.code as string | null) ?? null,
  };
}
