/**
 * The describe benchmark's SQLite side: reads a filled store file directly (better-sqlite3,
 * read-only where it can), undoes an ingest run, times the store's own retention sweep and
 * prints query plans. The server measured opens the same file through `--data DIR`.
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { forgetTasks as subtractItemCounts } from '../src/store/sqlite/progress.js';
import { assembleFacts, readKeys, sampleIds, timeSweep, type BenchBackend, type Facts } from './facts.js';

const log = (s: string) => process.stdout.write(s + '\n');

export class SqliteBackend implements BenchBackend {
  readonly name = 'sqlite';
  readonly serverStoreArgs: string[] = [];

  /** `file`: the store's refreshd.db. `ownCode`: may this checkout's store code open it (migrations)? */
  constructor(private readonly file: string, private readonly ownCode = true) {}

  async describe(): Promise<string> {
    const db = new Database(':memory:');
    const v = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    db.close();
    return `SQLite ${v}`;
  }

  async facts(keysFile: string): Promise<Facts> {
    const db = new Database(this.file, { readonly: true });
    try {
      const { lo, hi, n } = db.prepare('SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM items').get() as { lo: number; hi: number; n: number };
      const one = db.prepare('SELECT account_id, task_id, object_path, domain, object_type FROM items WHERE id >= ? ORDER BY id LIMIT 1');
      return assembleFacts(readKeys(keysFile), {
        domains: db.prepare('SELECT name, account_id FROM domains ORDER BY name').all() as { name: string; account_id: number }[],
        tasks: db.prepare("SELECT id, account_id, item_count FROM tasks WHERE product = 'cdn'").raw().iterate() as Iterable<[number, number, number]>,
        itemCount: n,
        oldest: (db.prepare('SELECT min(created_at) AS m FROM tasks').get() as { m: number }).m,
        samples: sampleIds(lo, hi).map((id) => one.get(id) as never),
      });
    } finally {
      db.close();
    }
  }

  async sizeBytes(): Promise<number> {
    return statSync(this.file).size;
  }

  async highWater(): Promise<{ item: number; task: number }> {
    const db = new Database(this.file, { readonly: true });
    try {
      const item = (db.prepare('SELECT max(id) AS m FROM items').get() as { m: number }).m;
      const task = (db.prepare('SELECT max(id) AS m FROM tasks').get() as { m: number }).m;
      return { item, task };
    } finally {
      db.close();
    }
  }

  async removeAbove(hw: { item: number; task: number }): Promise<number> {
    const db = new Database(this.file);
    try {
      return db.transaction(() => {
        subtractItemCounts(db, hw.task + 1, Number.MAX_SAFE_INTEGER);
        const n = db.prepare('DELETE FROM items WHERE id > ?').run(hw.item).changes;
        db.prepare('DELETE FROM tasks WHERE id > ?').run(hw.task);
        db.prepare('DELETE FROM usage_counters').run();
        db.prepare('DELETE FROM node_attempts WHERE item_id > ?').run(hw.item);
        return n;
      })();
    } finally {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
  }

  async openStore(): Promise<SqliteStore> {
    if (!this.ownCode) throw new Error("another build's store: this checkout's code must not open it (its migrations)");
    return new SqliteStore(this.file);
  }

  async measureSweep(oldest: number): Promise<number> {
    // Opening the store runs this checkout's migrations: only when that is the code measured.
    if (!this.ownCode) return NaN;
    return timeSweep(new SqliteStore(this.file), oldest);
  }

  async explain(facts: Facts): Promise<void> {
    const db = new Database(this.file, { readonly: true });
    const a = facts.heaviest;
    const w = 'account_id = ? AND product = ? AND created_at BETWEEN ? AND ?';
    const base = [a.id, 'cdn', 0, Date.now()];
    const shapes: [string, string, unknown[]][] = [
      ['unfiltered', `${w}`, base],
      ['type+status', `${w} AND object_type = ? AND status = ?`, [...base, 'file', 'Complete']],
      ['domain+type', `${w} AND object_type = ? AND domain IN (?)`, [...base, 'file', a.domains[0]]],
      ['path', `${w} AND path_hash = ? AND object_path = ?`, [...base, 1, 'x']],
      ['taskid', `${w} AND task_id = ?`, [...base, a.tasks[0]]],
    ];
    for (const [name, where, params] of shapes) {
      for (const sql of [`SELECT count(*) AS n FROM items WHERE ${where}`, `SELECT * FROM items WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 0`]) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
        const t0 = performance.now();
        db.prepare(sql).all(...params);
        const ms = performance.now() - t0;
        log(`  [${name}] ${sql.startsWith('SELECT count') ? 'count' : 'page '} ${ms.toFixed(2)} ms: ${plan.map((p) => p.detail).join(' | ')}`);
      }
    }
    db.close();
  }

  /**
   * This VM hands idle page cache back to its host within minutes (measured: 0.3 of 3.4 GB gone
   * 45 s after a full read), so a store left alone between runs is read from disk at first and
   * the figures swing with it. A serving store is hot; read the file once so runs compare.
   */
  async warm(): Promise<void> {
    const fh = await open(this.file, 'r');
    try {
      const buf = Buffer.allocUnsafe(8 << 20);
      let pos = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {}
}
