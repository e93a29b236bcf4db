import type Database from 'better-sqlite3';
import type { CacheNode, FleetStore, NodeGroup } from '../port.js';
import type { SqliteProgress } from './progress.js';

/** The fleet tables of the SQLite store: cache nodes, their groups' settings, and what removing a node means for items. */
export class SqliteFleet implements FleetStore {
  private readonly insert;
  private readonly all;
  private readonly byName;
  private readonly enable;
  private readonly putGroup;
  private readonly allGroups;

  constructor(
    private readonly db: Database.Database,
    private readonly progress: SqliteProgress,
  ) {
    this.insert = db.prepare('INSERT INTO nodes (name, driver, address, node_group, area, enabled, options, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.all = db.prepare('SELECT * FROM nodes ORDER BY id');
    this.byName = db.prepare('SELECT * FROM nodes WHERE name = ?');
    this.enable = db.prepare('UPDATE nodes SET enabled = ? WHERE name = ?');
    this.putGroup = db.prepare('INSERT INTO node_groups (name, verify) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET verify = excluded.verify');
    this.allGroups = db.prepare('SELECT name, verify FROM node_groups ORDER BY name');
  }

  async addNode(n: Omit<CacheNode, 'id'>): Promise<CacheNode> {
    this.insert.run(n.name, n.driver, n.address, n.group, n.area, n.enabled ? 1 : 0, JSON.stringify(n.options), n.createdAt);
    return toNode(this.byName.get(n.name));
  }

  async listNodes(): Promise<CacheNode[]> {
    return this.all.all().map(toNode);
  }

  async setNodeEnabled(name: string, enabled: boolean): Promise<boolean> {
    return this.enable.run(enabled ? 1 : 0, name).changes > 0;
  }

  async setNodeGroup(g: NodeGroup): Promise<void> {
    this.putGroup.run(g.name, g.verify);
  }

  async listNodeGroups(): Promise<NodeGroup[]> {
    return this.allGroups.all() as NodeGroup[];
  }

  /**
   * A removed node leaves the scope of every item it had not finished: those attempts go, and
   * the items' node counts and status are recomputed, so tasks still reach a terminal state.
   */
  async removeNode(name: string): Promise<boolean> {
    return this.db.transaction(() => {
      const node = this.byName.get(name) as { id: number } | undefined;
      if (!node) return false;
      const open = this.db.prepare("SELECT item_id FROM node_attempts WHERE node_id = ? AND state = 'pending'").all(node.id) as { item_id: number }[];
      this.db.prepare("DELETE FROM node_attempts WHERE node_id = ? AND state = 'pending'").run(node.id);
      this.progress.nodeRemoved(open.map((r) => r.item_id));
      this.db.prepare('DELETE FROM nodes WHERE id = ?').run(node.id);
      return true;
    })();
  }
}

export function toNode(r: unknown): CacheNode {
  const x = r as Record<string, unknown>;
  return {
    id: x.id as number, name: x.name as string, driver: x.driver as string, address: x.address as string,
    group: x.node_group as string, area: x.area as CacheNode['area'], enabled: x.enabled === 1,
    options: JSON.parse(x.options as string) as Record<string, unknown>, createdAt: x.created_at as number,
  };
}
