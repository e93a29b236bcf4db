import type Database from 'better-sqlite3';
import type { CacheNode, DomainChanges, NodeGroup } from '../port.js';

/** The fleet tables of the SQLite store: cache nodes, their groups' settings, and what removing a node means for items. */
export class SqliteFleet {
  private readonly insert;
  private readonly all;
  private readonly byName;
  private readonly enable;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT INTO nodes (name, driver, address, node_group, area, enabled, options, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.all = db.prepare('SELECT * FROM nodes ORDER BY id');
    this.byName = db.prepare('SELECT * FROM nodes WHERE name = ?');
    this.enable = db.prepare('UPDATE nodes SET enabled = ? WHERE name = ?');
  }

  add(n: Omit<CacheNode, 'id'>): CacheNode {
    this.insert.run(n.name, n.driver, n.address, n.group, n.area, n.enabled ? 1 : 0, JSON.stringify(n.options), n.createdAt);
    return toNode(this.byName.get(n.name));
  }

  list(): CacheNode[] {
    return this.all.all().map(toNode);
  }

  setGroup(g: NodeGroup): void {
    this.db.prepare('INSERT INTO node_groups (name, verify) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET verify = excluded.verify').run(g.name, g.verify);
  }

  groups(): NodeGroup[] {
    return this.db.prepare('SELECT name, verify FROM node_groups ORDER BY name').all() as NodeGroup[];
  }

  /** Domains map to groups; their changes live here with the groups' (only named columns change). */
  updateDomain(name: string, c: DomainChanges): boolean {
    const sets: string[] = [];
    const values: unknown[] = [];
    if (c.nodeGroup !== undefined) (sets.push('node_group = ?'), values.push(c.nodeGroup));
    if (c.origin !== undefined) (sets.push('origin = ?'), values.push(c.origin));
    if (c.product !== undefined) (sets.push('product = ?'), values.push(c.product));
    if (sets.length === 0) return this.db.prepare('SELECT 1 FROM domains WHERE name = ?').get(name) !== undefined;
    return this.db.prepare(`UPDATE domains SET ${sets.join(', ')} WHERE name = ?`).run(...values, name).changes > 0;
  }

  removeDomain(name: string): boolean {
    return this.db.prepare('DELETE FROM domains WHERE name = ?').run(name).changes > 0;
  }

  setEnabled(name: string, enabled: boolean): boolean {
    return this.enable.run(enabled ? 1 : 0, name).changes > 0;
  }

  /**
   * A removed node leaves the scope of every item it had not finished: those attempts go, and
   * the items' node counts and status are recomputed, so tasks still reach a terminal state.
   */
  remove(name: string, recount: (itemIds: number[]) => void): boolean {
    return this.db.transaction(() => {
      const node = this.byName.get(name) as { id: number } | undefined;
      if (!node) return false;
      const open = this.db.prepare("SELECT item_id FROM node_attempts WHERE node_id = ? AND state = 'pending'").all(node.id) as { item_id: number }[];
      this.db.prepare("DELETE FROM node_attempts WHERE node_id = ? AND state = 'pending'").run(node.id);
      const dec = this.db.prepare('UPDATE items SET nodes_total = nodes_total - 1 WHERE id = ?');
      for (const { item_id } of open) dec.run(item_id);
      recount(open.map((r) => r.item_id));
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
