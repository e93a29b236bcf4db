import type { RpcClient } from './rpc-client.js';

/**
 * `--wait`: follow tasks until every node of every item has confirmed (Complete) or something
 * failed, drawing one progress bar per task. On a terminal the bars redraw in place; otherwise
 * a line is printed whenever a task's state changes, which reads well in CI logs.
 */
export interface TaskProgress {
  taskId: string;
  items: number;
  complete: number;
  failed: number;
  percent: number;
  status: 'Pending' | 'Refreshing' | 'Complete' | 'Failed';
}

export interface WaitResult {
  tasks: TaskProgress[];
  /** Failed items with each failing node's reason. */
  failures: { taskId: string; objectPath: string; node: string; error: string; description: string }[];
  timedOut: boolean;
}

export async function waitForTasks(client: RpcClient, taskIds: string[], opts: { timeoutMs: number; intervalMs?: number; out?: NodeJS.WriteStream | null }): Promise<WaitResult> {
  const out = opts.out === undefined ? process.stderr : opts.out;
  const deadline = Date.now() + opts.timeoutMs;
  let drawn = 0;
  let lastLines: string[] = [];
  for (;;) {
    const tasks = await progressOf(client, taskIds);
    const lines = tasks.map(render);
    if (out) {
      if (out.isTTY) {
        if (drawn > 0) out.write(`\x1b[${drawn}A`);
        for (const l of lines) out.write(`\x1b[2K${l}\n`);
        drawn = lines.length;
      } else {
        lines.forEach((l, i) => l !== lastLines[i] && out.write(`${l}\n`));
      }
    }
    lastLines = lines;
    const done = tasks.every((t) => t.status === 'Complete' || t.status === 'Failed');
    if (done || Date.now() > deadline) {
      const failedIds = tasks.filter((t) => t.failed > 0).map((t) => t.taskId);
      return { tasks, failures: await failuresOf(client, failedIds), timedOut: !done };
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}

async function progressOf(client: RpcClient, taskIds: string[]): Promise<TaskProgress[]> {
  const rows: Record<string, string>[] = [];
  for (let i = 0; i < taskIds.length; i += 10) {
    rows.push(...(await client.call<{ Tasks: Record<string, string>[] }>('DescribeRefreshTaskById', { TaskId: taskIds.slice(i, i + 10).join(',') })).Tasks);
  }
  return taskIds.map((taskId) => {
    const mine = rows.filter((r) => r.TaskId === taskId);
    const complete = mine.filter((r) => r.Status === 'Complete').length;
    const failed = mine.filter((r) => r.Status === 'Failed').length;
    const percent = mine.length === 0 ? 0 : mine.reduce((n, r) => n + Number.parseFloat(r.Process), 0) / mine.length;
    const status = mine.length > 0 && complete === mine.length ? 'Complete'
      : mine.length > 0 && complete + failed === mine.length ? 'Failed'
      : mine.some((r) => r.Status !== 'Pending') ? 'Refreshing' : 'Pending';
    return { taskId, items: mine.length, complete, failed, percent, status };
  });
}

async function failuresOf(client: RpcClient, taskIds: string[]): Promise<WaitResult['failures']> {
  const out: WaitResult['failures'] = [];
  for (let i = 0; i < taskIds.length; i += 10) {
    const res = await client.call<{ Items: any[] }>('DescribeRefreshTaskNodes', { TaskId: taskIds.slice(i, i + 10).join(',') });
    for (const item of res.Items.filter((x) => x.Status === 'Failed')) {
      const bad = item.Nodes.filter((n: any) => n.State === 'Failed');
      if (bad.length === 0) out.push({ taskId: item.TaskId, objectPath: item.ObjectPath, node: '-', error: 'no cache node in scope', description: item.Description });
      for (const n of bad) out.push({ taskId: item.TaskId, objectPath: item.ObjectPath, node: n.Node, error: n.Error, description: item.Description });
    }
  }
  return out;
}

const BAR = 24;

export function render(t: TaskProgress): string {
  const filled = Math.round((Math.min(100, t.percent) / 100) * BAR);
  const pct = `${t.percent.toFixed(t.percent >= 100 ? 0 : 1)}%`.padStart(6);
  return `task ${t.taskId}  [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${pct}  ${t.status.padEnd(10)} ${t.complete}/${t.items} items${t.failed ? `, ${t.failed} failed` : ''}`;
}
