import type { JSONValue } from 'postgres';
import type { CacheNode, FleetStore, NodeGroup } from '../port.js';
import { adjustCounts } from './progress.js';
import { toNode, type Sql } from './rows.js';

/** The fleet tables of the PostgreSQL store: cache nodes, their groups' settings, and what removing a node means for items. */
export class PgFleet implements FleetStore {
  constructor(private readonly sql: Sql) {}

  async addNode(n: Omit<CacheNode, 'id'>): Promise<CacheNode> {
    const [row] = await this.sql`
      INSERT INTO nodes (name, driver, address, node_group, area, enabled, options, created_at)
      VALUES (${n.name}, ${n.driver}, ${n.address}, ${n.group}, ${n.area}, ${n.enabled}, ${this.sql.json(n.options as JSONValue)}, ${n.createdAt})
      RETURNING *`;
    return toNode(row);
  }

  async listNodes(): Promise<CacheNode[]> {
    return (await this.sql`SELECT * FROM nodes ORDER BY id`).map(toNode);
  }

  async setNodeEnabled(name: string, enabled: boolean): Promise<boolean> {
    return (await this.sql`UPDATE nodes SET enabled = ${enabled} WHERE name = ${name}`).count > 0;
  }

  async setNodeGroup(g: NodeGroup): Promise<void> {
    await this.sql`INSERT INTO node_groups (name, verify) VALUES (${g.name}, ${g.verify}) ON CONFLICT (name) DO UPDATE SET verify = excluded.verify`;
  }

  async listNodeGroups(): Promise<NodeGroup[]> {
    return (await this.sql<NodeGroup[]>`SELECT name, verify FROM node_groups ORDER BY name`).map((r) => ({ name: r.name, verify: r.verify }));
  }

  /**
   * A removed node leaves the scope of every item it had not finished: those attempts go, and
   * the items' node counts and status are recomputed, so tasks still reach a terminal state.
   */
  async removeNode(name: string): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      const [node] = await tx<{ id: number }[]>`SELECT id FROM nodes WHERE name = ${name} FOR UPDATE`;
      if (!node) return false;
      const open = await tx<{ item_id: number; item_created_at: number }[]>`
        DELETE FROM node_attempts WHERE node_id = ${node.id} AND state = 'pending' RETURNING item_id, item_created_at`;
      await adjustCounts(tx, open.map((o) => ({ id: o.item_id, created: o.item_created_at, applied: 0, failed: 0, total: -1, description: null })));
      await tx`DELETE FROM nodes WHERE id = ${node.id}`;
      return true;
    });
  }
}
