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

/**
 * Asks `check` every `everyMs` until it returns something truthy, and returns that; fails naming
 * `what` after `timeoutMs`. For work another party finishes in its own time (a cache storing an
 * object, a row written after an answer): the deadline is generous because a loaded machine can
 * take many times longer than an idle one, and waiting longer never makes a test pass wrongly.
 */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((res) => setTimeout(res, everyMs));
  }
}
