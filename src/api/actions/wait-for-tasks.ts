import { describeTaskIds } from '../../domain/describe.js';
import type { Handler } from '../context.js';

const POLL_MS = 200;

/**
 * WaitForTasks (refreshd extension): push instead of polling. The request is held until every
 * row of the given tasks is terminal or Timeout passes; the server looks at the store every
 * 200 ms (an indexed read by task id), which works the same with one process or many.
 */
export const waitForTasks: Handler = async (ctx) => {
  const deadline = Date.now() + (ctx.params.Timeout as number) * 1000;
  for (;;) {
    const rows = await describeTaskIds(ctx.store, ctx.account.id, ctx.product.product, ctx.params.TaskId as string, ctx.config.queryWindowDays, Date.now());
    const done = rows.every((r) => r.Status === 'Complete' || r.Status === 'Failed');
    if (done || Date.now() + POLL_MS > deadline) return { Done: done, Tasks: rows, TotalCount: rows.length };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
};
