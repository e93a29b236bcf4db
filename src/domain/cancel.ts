import type { Product } from '../spec/types.js';
import { parseTaskIds } from './describe.js';
import { DAY_MS } from './quota.js';
import type { CanceledTask } from './records.js';

/**
 * CancelRefreshTasks (refreshd extension): stop tasks that are still running. The store closes
 * every node attempt not yet finished — pending, backing off, or leased to a worker right now —
 * as failed with the reason `canceled`, and gives items not yet dispatched their attempts in
 * scope already closed so; items not Complete thereby become Failed, and what nodes had applied
 * stays applied. Only the account's own tasks of this product in the query window are seen:
 * any other id is left out of the answer, exactly as an id that names no task.
 */
export interface CancelStore {
  tasks: { cancelTasks(accountId: number, product: Product, taskIds: string[], from: number, now: number): Promise<CanceledTask[]> };
}

/** One task in the answer. */
export interface CanceledTaskWire {
  TaskId: string;
  /** Complete when every item was (already) Complete; Failed when any item failed or was canceled. */
  Status: 'Complete' | 'Failed' | 'Refreshing';
  Items: number;
  CanceledItems: number;
  CanceledNodes: number;
  AppliedNodes: number;
}

/** Cancel up to 10 comma-separated tasks; the answer lists the tasks found, in the order given. */
export async function cancelTasks(store: CancelStore, accountId: number, product: Product, taskIdList: string, windowDays: number, now: number): Promise<CanceledTaskWire[]> {
  // `017…` and `17…` name one task, as they do for the describe actions.
  const ids = [...new Set(parseTaskIds(taskIdList).map((id) => BigInt(id).toString()))];
  const done = await store.tasks.cancelTasks(accountId, product, ids, now - windowDays * DAY_MS, now);
  const byId = new Map(done.map((t) => [t.taskId, t]));
  return ids.flatMap((id) => {
    const t = byId.get(id);
    return t ? [toWire(t)] : [];
  });
}

function toWire(t: CanceledTask): CanceledTaskWire {
  const status = t.failed > 0 ? 'Failed' : t.complete === t.items ? 'Complete' : 'Refreshing';
  return { TaskId: t.taskId, Status: status, Items: t.items, CanceledItems: t.canceledItems, CanceledNodes: t.canceledNodes, AppliedNodes: t.appliedNodes };
}
