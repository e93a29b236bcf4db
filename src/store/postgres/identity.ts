import type { Product } from '../../spec/types.js';
import type { AccessKey, Account, Credential, IdentityStore, Policy, RamUser, ServiceState } from '../port.js';
import { toAccount, type Sql } from './rows.js';

/**
 * The identity tables of the PostgreSQL store (migration 2), shared by every API process:
 * accounts, AccessKeys with sealed secrets, RAM users, policies and attachments, store metadata.
 */
export class PgIdentity implements IdentityStore {
  constructor(private readonly sql: Sql) {}

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

  async listAccounts(): Promise<Account[]> {
    return (await this.sql`SELECT * FROM accounts ORDER BY id`).map((r) => toAccount(r)!);
  }

  async setServiceState(accountId: number, product: Product, state: ServiceState): Promise<void> {
    const column = product === 'cdn' ? 'cdn_service' : 'vod_service';
    await this.sql`UPDATE accounts SET ${this.sql.unsafe(column)} = ${state} WHERE id = ${accountId}`;
  }

  async createAccessKey(k: AccessKey): Promise<void> {
    await this.sql`
      INSERT INTO access_keys (access_key_id, secret_cipher, account_id, user_name, active, created_at)
      VALUES (${k.accessKeyId}, ${k.secretCipher}, ${k.accountId}, ${k.userName}, ${k.active}, ${k.createdAt})`;
  }

  async findAccessKey(id: string): Promise<AccessKey | undefined> {
    return toKey((await this.sql`SELECT * FROM access_keys WHERE access_key_id = ${id}`)[0]);
  }

  async findCredential(id: string): Promise<Credential | undefined> {
    const [row] = await this.sql`
      SELECT k.access_key_id, k.secret_cipher, k.account_id, k.user_name, k.active, k.created_at,
             a.id, a.uid, a.name, a.cdn_service, a.vod_service, a.created_at AS account_created_at
        FROM access_keys k LEFT JOIN accounts a ON a.id = k.account_id WHERE k.access_key_id = ${id}`;
    if (!row) return undefined;
    const account = row.id === null ? undefined : toAccount({ ...row, created_at: row.account_created_at });
    return { key: toKey(row)!, account };
  }

  async listAccessKeys(accountId?: number): Promise<AccessKey[]> {
    const rows = accountId === undefined
      ? await this.sql`SELECT * FROM access_keys ORDER BY created_at, access_key_id`
      : await this.sql`SELECT * FROM access_keys WHERE account_id = ${accountId} ORDER BY created_at, access_key_id`;
    return rows.map((r) => toKey(r)!);
  }

  async setAccessKeyActive(id: string, active: boolean): Promise<boolean> {
    return (await this.sql`UPDATE access_keys SET active = ${active} WHERE access_key_id = ${id}`).count > 0;
  }

  async replaceSecretCipher(id: string, expected: string, cipher: string): Promise<boolean> {
    return (await this.sql`UPDATE access_keys SET secret_cipher = ${cipher} WHERE access_key_id = ${id} AND secret_cipher = ${expected}`).count > 0;
  }

  async deleteAccessKey(id: string): Promise<boolean> {
    return (await this.sql`DELETE FROM access_keys WHERE access_key_id = ${id}`).count > 0;
  }

  async createUser(u: RamUser): Promise<boolean> {
    const r = await this.sql`
      INSERT INTO ram_users (account_id, name, display_name, created_at) VALUES (${u.accountId}, ${u.name}, ${u.displayName}, ${u.createdAt})
      ON CONFLICT DO NOTHING`;
    return r.count > 0;
  }

  async findUser(accountId: number, name: string): Promise<RamUser | undefined> {
    return toUser((await this.sql`SELECT * FROM ram_users WHERE account_id = ${accountId} AND name = ${name}`)[0]);
  }

  async listUsers(accountId: number): Promise<RamUser[]> {
    return (await this.sql`SELECT * FROM ram_users WHERE account_id = ${accountId} ORDER BY name`).map((r) => toUser(r)!);
  }

  /** Keys first, then the user; its attachments go by ON DELETE CASCADE. */
  async removeUser(accountId: number, name: string): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      await tx`DELETE FROM access_keys WHERE account_id = ${accountId} AND user_name = ${name}`;
      return (await tx`DELETE FROM ram_users WHERE account_id = ${accountId} AND name = ${name}`).count > 0;
    });
  }

  async createPolicy(p: Policy): Promise<boolean> {
    const r = await this.sql`
      INSERT INTO policies (account_id, name, description, document, created_at)
      VALUES (${p.accountId}, ${p.name}, ${p.description}, ${p.document}, ${p.createdAt})
      ON CONFLICT DO NOTHING`;
    return r.count > 0;
  }

  async findPolicy(accountId: number, name: string): Promise<Policy | undefined> {
    return toPolicy((await this.sql`SELECT * FROM policies WHERE account_id = ${accountId} AND name = ${name}`)[0]);
  }

  async listPolicies(accountId: number): Promise<Policy[]> {
    return (await this.sql`SELECT * FROM policies WHERE account_id = ${accountId} ORDER BY name`).map((r) => toPolicy(r)!);
  }

  async deletePolicy(accountId: number, name: string): Promise<boolean> {
    return (await this.sql`DELETE FROM policies WHERE account_id = ${accountId} AND name = ${name}`).count > 0;
  }

  async attachPolicy(accountId: number, userName: string, policyName: string, at: number): Promise<boolean> {
    const r = await this.sql`
      INSERT INTO policy_attachments (account_id, user_name, policy_name, attached_at) VALUES (${accountId}, ${userName}, ${policyName}, ${at})
      ON CONFLICT DO NOTHING`;
    return r.count > 0;
  }

  async detachPolicy(accountId: number, userName: string, policyName: string): Promise<boolean> {
    const r = await this.sql`DELETE FROM policy_attachments WHERE account_id = ${accountId} AND user_name = ${userName} AND policy_name = ${policyName}`;
    return r.count > 0;
  }

  async policiesOfUser(accountId: number, userName: string): Promise<Policy[]> {
    const rows = await this.sql`
      SELECT p.* FROM policy_attachments a JOIN policies p ON p.account_id = a.account_id AND p.name = a.policy_name
       WHERE a.account_id = ${accountId} AND a.user_name = ${userName} ORDER BY p.name`;
    return rows.map((r) => toPolicy(r)!);
  }

  async listAttachments(accountId: number): Promise<{ userName: string; policyName: string }[]> {
    const rows = await this.sql<{ user_name: string; policy_name: string }[]>`
      SELECT user_name, policy_name FROM policy_attachments WHERE account_id = ${accountId} ORDER BY user_name, policy_name`;
    return rows.map((r) => ({ userName: r.user_name, policyName: r.policy_name }));
  }

  async ensureMeta(name: string, value: string): Promise<string> {
    await this.sql`INSERT INTO meta (name, value) VALUES (${name}, ${value}) ON CONFLICT DO NOTHING`;
    const [row] = await this.sql<{ value: string }[]>`SELECT value FROM meta WHERE name = ${name}`;
    return row.value;
  }
}

type Row = Record<string, unknown>;

function toKey(x: Row | undefined): AccessKey | undefined {
  if (!x) return undefined;
  return {
    accessKeyId: x.access_key_id as string, secretCipher: x.secret_cipher as string, accountId: x.account_id as number,
    userName: (x.user_name as string | null) ?? null, active: x.active as boolean, createdAt: x.created_at as number,
  };
}

function toUser(x: Row | undefined): RamUser | undefined {
  if (!x) return undefined;
  return { accountId: x.account_id as number, name: x.name as string, displayName: x.display_name as string, createdAt: x.created_at as number };
}

function toPolicy(x: Row | undefined): Policy | undefined {
  if (!x) return undefined;
  return {
    accountId: x.account_id as number, name: x.name as string, description: x.description as string,
    document: x.document as string, createdAt: x.created_at as number,
  };
}
