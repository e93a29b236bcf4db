import type Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import type { Domain, DomainStore } from '../port.js';

/** The domains table of the SQLite store. */
export class SqliteDomains implements DomainStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare('INSERT INTO domains (name, account_id, product, origin, online, node_group, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      byName: db.prepare('SELECT * FROM domains WHERE name = ?'),
      all: db.prepare('SELECT * FROM domains ORDER BY name'),
      ofAccount: db.prepare('SELECT * FROM domains WHERE account_id = ? ORDER BY name'),
      setOnline: db.prepare('UPDATE domains SET online = ? WHERE name = ?'),
    };
  }

  async addDomain(d: Domain): Promise<void> {
    this.s.insert.run(d.name, d.accountId, d.product, d.origin, d.online ? 1 : 0, d.nodeGroup, d.createdAt);
  }

  async findDomain(name: string): Promise<Domain | undefined> {
    return toDomain(this.s.byName.get(name));
  }

  async listDomains(accountId?: number): Promise<Domain[]> {
    const rows = accountId === undefined ? this.s.all.all() : this.s.ofAccount.all(accountId);
    return rows.map((r) => toDomain(r)!);
  }

  async setDomainOnline(name: string, online: boolean): Promise<boolean> {
    return this.s.setOnline.run(online ? 1 : 0, name).changes > 0;
  }
}

function toDomain(r: unknown): Domain | undefined {
  if (!r) return undefined;
  const x = r as Record<string, unknown>;
  return {
    name: x.name as string, accountId: x.account_id as number, product: x.product as Product,
    origin: (x.origin as string | null) ?? null, online: x.online === 1, nodeGroup: x.node_group as string, createdAt: x.created_at as number,
  };
}
