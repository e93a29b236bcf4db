/**
 * Per-node concurrency: at most `limit` requests in flight to one node; the rest wait their turn
 * in arrival order. Keeps one slow or large task from flooding a cache server.
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
