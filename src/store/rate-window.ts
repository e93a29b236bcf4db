/**
 * Calls per second per key, counted in fixed one-second windows, in process memory: the SQLite
 * store's rate limiting, right for its single API process. (PostgreSQL shares the counters.)
 */
export class RateWindows {
  private readonly windows = new Map<string, { second: number; count: number }>();

  /** Returns 0 when the call may go ahead, else the ms until the next window opens. */
  take(key: string, perSecond: number, now: number): number {
    const second = Math.floor(now / 1000);
    const w = this.windows.get(key);
    if (!w || w.second !== second) {
      if (this.windows.size > 100_000) this.prune(second);
      this.windows.set(key, { second, count: 1 });
      return 0;
    }
    if (w.count >= perSecond) return (second + 1) * 1000 - now;
    w.count++;
    return 0;
  }

  private prune(second: number): void {
    for (const [k, w] of this.windows) if (w.second < second) this.windows.delete(k);
  }
}
