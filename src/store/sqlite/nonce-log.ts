import type Database from 'better-sqlite3';
import { NonceCache } from './nonce-cache.js';

/** How long an accepted nonce may wait in memory before it is written (a crash loses at most this much). */
const FLUSH_MS = 25;

/**
 * Nonces that survive a restart. The check stays in memory (NonceCache: no disk read on the
 * request path); accepted nonces are appended to the `nonces` table every 25 ms in one
 * transaction on the engine's connection (synchronous=NORMAL, no fsync per call), and the first
 * check after a start loads the unexpired ones back. A request captured before a restart is
 * therefore refused after it too; only nonces accepted in the last 25 ms before a crash are not.
 * Loading is lazy so admin commands that open the store never pay for it.
 */
export class NonceLog {
  private readonly cache = new NonceCache();
  private loaded = false;
  private pending: [number, string][] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly insert;
  private readonly expire;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT OR IGNORE INTO nonces (expires_at, key) VALUES (?, ?)');
    this.expire = db.prepare('DELETE FROM nonces WHERE expires_at < ?');
  }

  use(accessKeyId: string, nonce: string, expiresAt: number, now = Date.now()): boolean {
    if (!this.loaded) this.load(now);
    const key = NonceCache.keyOf(accessKeyId, nonce);
    if (!this.cache.useKey(key, expiresAt, now)) return false;
    this.pending.push([expiresAt, key]);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
    return true;
  }

  /** Write what is pending (also on close, so a clean stop loses nothing). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const [at, key] of batch) this.insert.run(at, key);
    })();
  }

  /** Forget expired nonces in memory and in the table (run by the store's sweep). */
  sweep(now: number): void {
    this.cache.sweep(now);
    this.expire.run(now);
  }

  private load(now: number): void {
    this.loaded = true;
    this.expire.run(now);
    for (const [at, key] of this.db.prepare('SELECT expires_at, key FROM nonces').raw().iterate() as Iterable<[number, string]>) {
      this.cache.useKey(key, at, now);
    }
  }
}
