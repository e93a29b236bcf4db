/**
 * Signature nonces seen inside the timestamp window, in memory. Enough for one API process (the
 * SQLite deployment); the PostgreSQL store shares them between processes. An entry only lives
 * until its request's timestamp would be rejected anyway, so memory is bounded by the request
 * rate times the window.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  use(key: string, expiresAt: number, now = Date.now()): boolean {
    if (now - this.lastSweep > 60_000) this.sweep(now);
    const prior = this.seen.get(key);
    if (prior !== undefined && prior >= now) return false;
    this.seen.set(key, expiresAt);
    return true;
  }

  sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
  }
}
