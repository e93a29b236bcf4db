import { countUnfinished, describeTaskIds } from '../../domain/describe.js';
import { nextProgress } from '../../worker/progress-events.js';
import type { Handler } from '../context.js';

const POLL_MS = 200;
const MAX_GAP_MS = 50;

/**
 * WaitForTasks (refreshd extension): push instead of polling. The request is held until every
 * row of the given tasks is terminal or Timeout passes. The store is read again whenever a
 * worker in this process records outcomes, and at least every 200 ms (an indexed read by task
 * id), so it answers at once with an in-process worker and within 200 ms across processes.
 */
export const waitForTasks: Handler = async (ctx) => {
  const deadline = Date.now() + (ctx.params.Timeout as number) * 1000;
  const read = () => describeTaskIds(ctx.store, ctx.account.id, ctx.product.product, ctx.params.TaskId as string, ctx.config.queryWindowDays, Date.now());
  const first = await read(); // validates the ids, and answers at once when all are done already
  let done = first.every((r) => r.Status === 'Complete' || r.Status === 'Failed');
  const ids = [...new Set(first.map((r) => r.TaskId))];
  // While waiting, only count what is still open (an index read, no rows built), then read once.
  // Outcomes arrive in bursts: after a count that took c ms, the next waits at least 5c, so a big
  // task's waiters do not re-read it on every small batch while a small task answers at once.
  let gap = 0;
  while (!done && Date.now() < deadline) {
    const since = Date.now();
    await nextProgress(Math.min(POLL_MS, deadline - since));
    const early = gap - (Date.now() - since);
    if (early > 0) await new Promise((r) => setTimeout(r, Math.min(early, Math.max(0, deadline - Date.now()))));
    const started = performance.now();
    done = (await countUnfinished(ctx.store, ctx.account.id, ctx.product.product, ids, ctx.config.queryWindowDays, Date.now())) === 0;
    gap = Math.min(MAX_GAP_MS, 5 * (performance.now() - started));
  }
  const rows = done ? await read() : first;
  return { Done: done, Tasks: rows, TotalCount: rows.length };
};
