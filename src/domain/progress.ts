/**
 * Item state is derived from per-node attempt counts, never kept on its own (docs/design.md, core model).
 * The store keeps the counts in step with the attempt rows in the same transaction, and keeps a
 * `status` column only so that the Status filter can use an index; both come from this function.
 */
export type ItemStatus = 'Pending' | 'Refreshing' | 'Complete' | 'Failed';

export interface NodeCounts {
  /** Nodes in scope; null until the item is first dispatched to the fleet. */
  total: number | null;
  applied: number;
  failed: number;
}

/**
 * Pending (Alibaba: 等待刷新, waiting to be refreshed) until the first node in scope confirms the
 * item, whether or not it has been handed to the nodes yet: a request on its way has changed
 * nothing. Refreshing (刷新中) once some nodes have and others not, Complete when all have,
 * Failed as soon as one cannot.
 */
export function deriveStatus(c: NodeCounts): ItemStatus {
  if (c.total === null) return 'Pending';
  // No node in scope (empty or disabled group): nothing can confirm it, so it cannot be Complete.
  if (c.failed > 0 || c.total === 0) return 'Failed';
  if (c.applied >= c.total) return 'Complete';
  return c.applied === 0 ? 'Pending' : 'Refreshing';
}

/** `Process` as Alibaba prints it: "0%", "66.66%", "100%". Floored so it never reads 100% early. */
export function formatProcess(c: NodeCounts): string {
  if (c.total === null) return '0%';
  if (c.total === 0) return '0%';
  const pct = Math.floor((c.applied / c.total) * 10000) / 100;
  return `${pct}%`;
}
