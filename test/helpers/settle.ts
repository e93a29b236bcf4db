import { rpc } from './rpc.js';

export interface NodeAttempt {
  Node: string;
  State: 'Pending' | 'Applied' | 'Failed';
  Attempts: number;
  AppliedTime: string;
  Error?: string;
  [k: string]: unknown;
}

export type NodeItem = { Status: string; ObjectPath: string; Nodes: NodeAttempt[] } & Record<string, unknown>;

/**
 * Waits until every node attempt of a task has finished (Applied or Failed for good) and returns
 * them, item by item. A task's item is Failed as soon as its first node gives up while other nodes
 * may still be retrying, so a test that looks at per-node facts must wait for this, not for the
 * item's Status.
 */
export async function untilNodesSettled(url: string, taskId: string, timeoutMs = 15_000): Promise<NodeItem[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = (await rpc(url, 'DescribeRefreshTaskNodes', { TaskId: taskId, PageSize: 50 })).json.Items as NodeItem[] | undefined;
    if (items && items.length > 0 && items.every((i) => i.Nodes.every((n) => n.State !== 'Pending'))) return items;
    if (Date.now() > deadline) throw new Error(`task ${taskId}: node attempts still pending after ${timeoutMs} ms: ${JSON.stringify(items)}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}
