import type Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import type { Domain, DomainChanges, DomainStore } from '../port.js';

/** The domains table of the SQLite store. */
export class SqliteDomains implements DomainStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      insert: db.prepare('INSERT INTO domains (name, account_id, product, origin, online, node_group, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      byName: db.prepare('SELECT * FROM domains WHERE name = ?'),
      all: db.prepare('SELECT * FROM domains ORDER BY name'),
      ofAccount: db.prepare('SELECT * FROM domains WHERE account_id = ? ORDER BY name'),
      setOnline: db.prepare('UPDATE domains SET online = ? WHERE name = ?'),
      remove: db.prepare('DELETE FROM domains WHERE name = ?'),
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

  /** Only the named columns change; an empty change only says whether the domain exists. */
  async updateDomain(name: string, c: DomainChanges): Promise<boolean> {
    const sets: string[] = [];
    const values: unknown[] = [];
    if (c.nodeGroup !== undefined) (sets.push('node_group = ?'), values.push(c.nodeGroup));
    if (c.origin !== undefined) (sets.push('origin = ?'), values.push(c.origin));
    if (c.product !== undefined) (sets.push('product = ?'), values.push(c.product));
    if (sets.length === 0) return this.s.byName.get(name) !== undefined;
    return this.db.prepare(`UPDATE domains SET ${sets.join(', ')} WHERE name = ?`).run(...values, name).changes > 0;
  }

  async removeDomain(name: string): Promise<boolean> {
    return this.s.remove.run(name).changes > 0;
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
