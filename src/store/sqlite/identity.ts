import type Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import type { AccessKey, Account, Credential, IdentityStore, Policy, RamUser, ServiceState } from '../port.js';

/**
 * The identity tables of the SQLite store: accounts, AccessKeys with sealed secrets, RAM users,
 * policies and their attachments, and store metadata. They are written on the API connection
 * (synchronous=FULL): a key change is on disk once made.
 */
export class SqliteIdentity implements IdentityStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      insertAccount: db.prepare('INSERT INTO accounts (uid, name, created_at) VALUES (?, ?, ?)'),
      accountById: db.prepare('SELECT * FROM accounts WHERE id = ?'),
      accountByName: db.prepare('SELECT * FROM accounts WHERE name = ?'),
      allAccounts: db.prepare('SELECT * FROM accounts ORDER BY id'),
      insertKey: db.prepare('INSERT INTO access_keys (access_key_id, secret_cipher, account_id, user_name, active, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      keyById: db.prepare('SELECT * FROM access_keys WHERE access_key_id = ?'),
      credential: db.prepare(`SELECT ${CREDENTIAL_COLUMNS} FROM access_keys k LEFT JOIN accounts a ON a.id = k.account_id WHERE k.access_key_id = ?`).raw(),
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
      insertMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      metaByName: db.prepare('SELECT value FROM meta WHERE name = ?'),
    };
  }

  async createAccount(input: { uid: string; name: string; createdAt: number }): Promise<Account> {
    const id = Number(this.s.insertAccount.run(input.uid, input.name, input.createdAt).lastInsertRowid);
    return toAccount(this.s.accountById.get(id))!;
  }

  async getAccount(id: number): Promise<Account | undefined> {
    return toAccount(this.s.accountById.get(id));
  }

  async findAccountByName(name: string): Promise<Account | undefined> {
    return toAccount(this.s.accountByName.get(name));
  }

  async listAccounts(): Promise<Account[]> {
    return this.s.allAccounts.all().map((r) => toAccount(r)!);
  }

  async setServiceState(accountId: number, product: Product, state: ServiceState): Promise<void> {
    const column = product === 'cdn' ? 'cdn_service' : 'vod_service';
    this.db.prepare(`UPDATE accounts SET ${column} = ? WHERE id = ?`).run(state, accountId);
  }

  async createAccessKey(k: AccessKey): Promise<void> {
    this.s.insertKey.run(k.accessKeyId, k.secretCipher, k.accountId, k.userName, k.active ? 1 : 0, k.createdAt);
  }

  async findAccessKey(id: string): Promise<AccessKey | undefined> {
    return toKey(this.s.keyById.get(id));
  }

  async findCredential(id: string): Promise<Credential | undefined> {
    return toCredential(this.s.credential.get(id) as unknown[] | undefined);
  }

  async listAccessKeys(accountId?: number): Promise<AccessKey[]> {
    return (accountId === undefined ? this.s.allKeys.all() : this.s.keysOfAccount.all(accountId)).map((r) => toKey(r)!);
  }

  async setAccessKeyActive(id: string, active: boolean): Promise<boolean> {
    return this.s.setKeyActive.run(active ? 1 : 0, id).changes > 0;
  }

  async replaceSecretCipher(id: string, expected: string, cipher: string): Promise<boolean> {
    return this.s.replaceCipher.run(cipher, id, expected).changes > 0;
  }

  async deleteAccessKey(id: string): Promise<boolean> {
    return this.s.deleteKey.run(id).changes > 0;
  }

  async createUser(u: RamUser): Promise<boolean> {
    return this.s.insertUser.run(u.accountId, u.name, u.displayName, u.createdAt).changes > 0;
  }

  async findUser(accountId: number, name: string): Promise<RamUser | undefined> {
    return toUser(this.s.userByName.get(accountId, name));
  }

  async listUsers(accountId: number): Promise<RamUser[]> {
    return this.s.usersOfAccount.all(accountId).map((r) => toUser(r)!);
  }

  /** Keys first, then the user; its attachments go by ON DELETE CASCADE. */
  async removeUser(accountId: number, name: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.s.deleteUserKeys.run(accountId, name);
      return this.s.deleteUser.run(accountId, name).changes > 0;
    }).immediate();
  }

  async createPolicy(p: Policy): Promise<boolean> {
    return this.s.insertPolicy.run(p.accountId, p.name, p.description, p.document, p.createdAt).changes > 0;
  }

  async findPolicy(accountId: number, name: string): Promise<Policy | undefined> {
    return toPolicy(this.s.policyByName.get(accountId, name));
  }

  async listPolicies(accountId: number): Promise<Policy[]> {
    return this.s.policiesOfAccount.all(accountId).map((r) => toPolicy(r)!);
  }

  async deletePolicy(accountId: number, name: string): Promise<boolean> {
    return this.s.deletePolicy.run(accountId, name).changes > 0;
  }

  async attachPolicy(accountId: number, userName: string, policyName: string, at: number): Promise<boolean> {
    return this.s.attach.run(accountId, userName, policyName, at).changes > 0;
  }

  async detachPolicy(accountId: number, userName: string, policyName: string): Promise<boolean> {
    return this.s.detach.run(accountId, userName, policyName).changes > 0;
  }

  async policiesOfUser(accountId: number, userName: string): Promise<Policy[]> {
    return this.s.policiesOfUser.all(accountId, userName).map((r) => toPolicy(r)!);
  }

  async listAttachments(accountId: number): Promise<{ userName: string; policyName: string }[]> {
    return (this.s.attachments.all(accountId) as { user_name: string; policy_name: string }[]).map((r) => ({ userName: r.user_name, policyName: r.policy_name }));
  }

  async ensureMeta(name: string, value: string): Promise<string> {
    this.s.insertMeta.run(name, value);
    return (this.s.metaByName.get(name) as { value: string }).value;
  }
}

type Row = Record<string, unknown>;

/** The key's columns, then the account's (null when the account is gone), as raw arrays. */
const CREDENTIAL_COLUMNS = `k.access_key_id, k.secret_cipher, k.account_id, k.user_name, k.active, k.created_at,
  a.id, a.uid, a.name, a.cdn_service, a.vod_service, a.created_at`;

function toCredential(r: unknown[] | undefined): Credential | undefined {
  if (!r) return undefined;
  const key: AccessKey = {
    accessKeyId: r[0] as string, secretCipher: r[1] as string, accountId: r[2] as number,
    userName: (r[3] as string | null) ?? null, active: r[4] === 1, createdAt: r[5] as number,
  };
  const account: Account | undefined = r[6] === null ? undefined : {
    id: r[6] as number, uid: r[7] as string, name: r[8] as string, createdAt: r[11] as number,
    services: { cdn: r[9] as ServiceState, vod: r[10] as ServiceState },
  };
  return { key, account };
}

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

function toAccount(r: unknown): Account | undefined {
  if (!r) return undefined;
  const x = r as Row;
  return {
    id: x.id as number, uid: x.uid as string, name: x.name as string, createdAt: x.created_at as number,
    services: { cdn: x.cdn_service as ServiceState, vod: x.vod_service as ServiceState },
  };
}
