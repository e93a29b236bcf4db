import { countUnfinished, parseTaskIds, rowsOfTasks } from '../../domain/describe.js';
import { nextProgress } from '../../worker/progress-events.js';
import { ApiError } from '../../spec/errors.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { ActionContext, Handler } from '../context.js';

const POLL_MS = 200;
const MAX_GAP_MS = 50;
const QUICK_MS = 1;

/**
 * WaitForTasks (refreshd extension): push instead of polling. The request is held until every
 * row of the given tasks is terminal or Timeout passes, then answered with the rows as they are.
 * The store is asked again whenever a worker in this process records outcomes, and at least
 * every 200 ms, so it answers at once with an in-process worker and within 200 ms across
 * processes.
 */
type WaitAction = typeof CDN_ACTIONS.WaitForTasks;

export const waitForTasks: Handler<WaitAction> = async (ctx) => {
  const key = ctx.key.accessKeyId;
  if (!ctx.held.enter(key)) {
    throw new ApiError('Throttling', { detail: `At most ${ctx.config.waitForTasksPerKey} WaitForTasks calls may be held at once per AccessKey.`, headers: { 'x-acs-retry-after': '1000' } });
  }
  try {
    return await waitUntilDone(ctx);
  } finally {
    ctx.held.leave(key);
  }
};

async function waitUntilDone(ctx: ActionContext<WaitAction>): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ctx.params.Timeout * 1000;
  const ids = parseTaskIds(ctx.params.TaskId);
  const { store, account, product, config } = ctx;
  // While waiting, only count what is still open (an index probe per task, no rows built); the
  // rows are read once, for the answer. A count that took c ms (many tasks, or a store far away)
  // makes the next wait at least 5c, so such waiters do not re-count on every small batch of
  // outcomes; a count under 1 ms never waits: the answer goes out the moment the last outcome
  // is recorded.
  const open = () => countUnfinished(store, account.id, product.product, ids, config.queryWindowDays, Date.now());
  let done = (await open()) === 0;
  let gap = 0;
  while (!done && Date.now() < deadline) {
    const since = Date.now();
    await nextProgress(Math.min(POLL_MS, deadline - since));
    const early = gap - (Date.now() - since);
    if (early > 0) await new Promise((r) => setTimeout(r, Math.min(early, Math.max(0, deadline - Date.now()))));
    const started = performance.now();
    done = (await open()) === 0;
    const took = performance.now() - started;
    gap = took < QUICK_MS ? 0 : Math.min(MAX_GAP_MS, 5 * took);
  }
  const rows = await rowsOfTasks(store, account.id, product.product, ids, config.queryWindowDays, Date.now());
  return { Done: done, Tasks: rows, TotalCount: rows.length };
}
