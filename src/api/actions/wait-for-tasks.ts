import { countUnfinished, describeTaskIds } from '../../domain/describe.js';
import { nextProgress } from '../../worker/progress-events.js';
import type { Handler } from '../context.js';

const POLL_MS = 200;

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
  while (!done && Date.now() < deadline) {
    await nextProgress(Math.min(POLL_MS, deadline - Date.now()));
    done = (await countUnfinished(ctx.store, ctx.account.id, ctx.product.product, ids, ctx.config.queryWindowDays, Date.now())) === 0;
  }
  const rows = done ? await read() : first;
  return { Done: done, Tasks: rows, TotalCount: rows.length };
};
