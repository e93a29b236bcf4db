/**
 * Long-polls (WaitForTasks) each AccessKey holds open in this API process. A held call costs a
 * socket and a store probe per batch of outcomes; without a ceiling one key could hold ~900 of
 * them and lift the server's CPU from 10 % to 38 % for everybody. One instance per server.
 */
export class HeldCalls {
  private readonly byKey = new Map<string, number>();

  constructor(private readonly perKey: number) {}

  /** Take a place for `key`; false when it already holds its ceiling. */
  enter(key: string): boolean {
    const held = this.byKey.get(key) ?? 0;
    if (held >= this.perKey) return false;
    this.byKey.set(key, held + 1);
    return true;
  }

  leave(key: string): void {
    const held = (this.byKey.get(key) ?? 1) - 1;
    if (held <= 0) this.byKey.delete(key);
    else this.byKey.set(key, held);
  }

  /** Calls held by `key` now (for tests and metrics). */
  count(key: string): number {
    return this.byKey.get(key) ?? 0;
  }
}
