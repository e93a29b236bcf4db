import Database from 'better-sqlite3';
import { NonceCache } from './nonce-cache.js';
import { deleteBelow } from './sweep-steps.js';

/** How long an accepted nonce may wait in memory before it is written (a crash loses at most this much). */
const FLUSH_MS = 25;
/** After a failed write (the file locked by another process past the busy timeout). */
const RETRY_MS = 1_000;

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

  private readonly db: Database.Database;

  constructor(file: string) {
    // Its own connection, which never waits for the lock: a nonce write must not stall the
    // event loop behind another process's transaction (it retries instead), and in this
    // process nothing else can hold the lock while it runs (better-sqlite3 is synchronous).
    this.db = new Database(file);
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 0');
    // Checkpoints run in the store's checkpoint thread (checkpointer.ts), never inside a write here.
    this.db.pragma('wal_autocheckpoint = 0');
    this.insert = this.db.prepare('INSERT OR IGNORE INTO nonces (expires_at, key) VALUES (?, ?)');
    this.expire = this.db.prepare('DELETE FROM nonces WHERE expires_at < ?');
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
    try {
      this.db.transaction(() => {
        for (const [at, key] of batch) this.insert.run(at, key);
      })();
    } catch {
      // Another process holds the write lock (or the file is failing): the check in memory holds,
      // so keep the batch and try again a little later rather than fail a request or the process.
      this.pending = batch.concat(this.pending);
      this.timer = setTimeout(() => this.flush(), RETRY_MS).unref();
    }
  }

  /** Write what is pending and let go of the file. */
  close(): void {
    this.flush();
    clearTimeout(this.timer);
    this.db.close();
  }

  /**
   * Forget expired nonces in memory and in the table (run by the store's sweep), the rows in
   * steps: at 3,000 calls/s, ten minutes between sweeps leave 1.8 million of them.
   */
  async sweep(now: number): Promise<void> {
    this.cache.sweep(now);
    try {
      await deleteBelow(this.db, 'nonces', 'expires_at', now);
    } catch {
      /* locked by another process: expired rows are harmless until the next sweep (load skips nothing it should keep) */
    }
  }

  /** Delete expired rows at once (at the first check after a start); when locked, the next sweep does it. */
  private forget(now: number): void {
    try {
      this.expire.run(now);
    } catch {
      /* locked: as above */
    }
  }

  private load(now: number): void {
    this.loaded = true;
    this.forget(now);
    for (const [at, key] of this.db.prepare('SELECT expires_at, key FROM nonces').raw().iterate() as Iterable<[number, string]>) {
      this.cache.useKey(key, at, now);
    }
  }
}
