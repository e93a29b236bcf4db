import { createHash } from 'node:crypto';

/**
 * Signature nonces seen inside the timestamp window, in memory: enough for the one API process
 * of the SQLite deployment (PostgreSQL shares them between processes in a table). An entry
 * lives until its request's timestamp would be rejected anyway. SqliteStore also writes them to
 * the `nonces` table in small batches and seeds a new process from it (nonce-log.ts), so a
 * restart does not reopen the window for replays.
 *
 * At 3,000 calls/s the window holds millions of entries, so they sit in one map per minute of
 * expiry: forgetting a minute drops its whole map at once (a scan of every entry stalled the
 * event loop for 0.2–0.5 s, docs/benchmarks.md), and keys are 16-byte digests, not the nonces.
 */
const MINUTE = 60_000;

export class NonceCache {
  /** Minute of expiry → key → expiry (ms). */
  private readonly byMinute = new Map<number, Map<string, number>>();

  /** The digest an entry is kept under (and persisted as). */
  static keyOf(accessKeyId: string, nonce: string): string {
    return createHash('md5').update(accessKeyId).update('\n').update(nonce).digest('base64');
  }

  use(accessKeyId: string, nonce: string, expiresAt: number, now = Date.now()): boolean {
    return this.useKey(NonceCache.keyOf(accessKeyId, nonce), expiresAt, now);
  }

  /** False when the key is already held and unexpired; otherwise holds it until `expiresAt`. */
  useKey(key: string, expiresAt: number, now = Date.now()): boolean {
    this.sweep(now);
    for (const entries of this.byMinute.values()) {
      const prior = entries.get(key);
      if (prior !== undefined && prior >= now) return false;
    }
    const minute = Math.floor(expiresAt / MINUTE);
    let entries = this.byMinute.get(minute);
    if (!entries) this.byMinute.set(minute, (entries = new Map()));
    entries.set(key, expiresAt);
    return true;
  }

  /** Drop every minute that has wholly expired. */
  sweep(now: number): void {
    const current = Math.floor(now / MINUTE);
    for (const minute of this.byMinute.keys()) if (minute < current) this.byMinute.delete(minute);
  }
}
