/**
 * Per-node concurrency for the bare fan-out of bench/fanout.ts: at most `limit` requests in
 * flight to one node; the rest wait their turn in arrival order. (refreshd itself limits per
 * node in its executor thread, src/worker/executor-thread.ts; this is the bare script's own.)
 */
export class NodeSlots {
  private readonly active = new Map<number, number>();
  private readonly waiting = new Map<number, (() => void)[]>();

  async acquire(nodeId: number, limit: number): Promise<void> {
    const n = this.active.get(nodeId) ?? 0;
    if (n < limit) {
      this.active.set(nodeId, n + 1);
      return;
    }
    await new Promise<void>((resolve) => {
      const q = this.waiting.get(nodeId) ?? [];
      q.push(resolve);
      this.waiting.set(nodeId, q);
    });
  }

  release(nodeId: number): void {
    const next = this.waiting.get(nodeId)?.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.active.set(nodeId, (this.active.get(nodeId) ?? 1) - 1);
  }
}
