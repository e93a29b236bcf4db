import type { Domain, DomainChanges, DomainStore } from '../port.js';
import { toDomain, type Sql } from './rows.js';

/** The domains table of the PostgreSQL store. */
export class PgDomains implements DomainStore {
  constructor(private readonly sql: Sql) {}

  async addDomain(d: Domain): Promise<void> {
    await this.sql`
      INSERT INTO domains (name, account_id, product, origin, online, node_group, created_at)
      VALUES (${d.name}, ${d.accountId}, ${d.product}, ${d.origin}, ${d.online}, ${d.nodeGroup}, ${d.createdAt})`;
  }

  async findDomain(name: string): Promise<Domain | undefined> {
    return toDomain((await this.sql`SELECT * FROM domains WHERE name = ${name}`)[0]);
  }

  async listDomains(accountId?: number): Promise<Domain[]> {
    const rows = accountId === undefined
      ? await this.sql`SELECT * FROM domains ORDER BY name`
      : await this.sql`SELECT * FROM domains WHERE account_id = ${accountId} ORDER BY name`;
    return rows.map((r) => toDomain(r)!);
  }

  async setDomainOnline(name: string, online: boolean): Promise<boolean> {
    return (await this.sql`UPDATE domains SET online = ${online} WHERE name = ${name}`).count > 0;
  }

  /** Only the named columns change (an origin may be set to null); an empty change only says whether the domain exists. */
  async updateDomain(name: string, c: DomainChanges): Promise<boolean> {
    const [row] = await this.sql`
      UPDATE domains SET node_group = coalesce(${c.nodeGroup ?? null}, node_group),
             origin = CASE WHEN ${c.origin !== undefined} THEN ${c.origin ?? null} ELSE origin END,
             product = coalesce(${c.product ?? null}, product)
       WHERE name = ${name} RETURNING name`;
    return row !== undefined;
  }

  async removeDomain(name: string): Promise<boolean> {
    return (await this.sql`DELETE FROM domains WHERE name = ${name}`).count > 0;
  }
}
