import type { Store } from '../../src/store/port.js';

/**
 * Test-only store verbs, built from the ports: what the worker's dispatch does, without leasing
 * anything (the worker itself always dispatches and claims in one transaction).
 */
export async function dispatchPending(store: Pick<Store, 'queue'>, now: number, limit: number): Promise<number> {
  return (await store.queue.dispatchAndClaim('dispatcher', now, 60_000, limit, 0)).dispatched;
}
