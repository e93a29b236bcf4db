import { cancelTasks } from '../../domain/cancel.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import { emitProgress } from '../../worker/progress-events.js';
import type { Handler } from '../context.js';

/** CancelRefreshTasks (refreshd extension, both products): `Tasks` is the bare array, as in DescribeRefreshTaskById. */
export const cancelRefreshTasks: Handler<typeof CDN_ACTIONS.CancelRefreshTasks> = async (ctx) => {
  const tasks = await cancelTasks(ctx.store, ctx.account.id, ctx.product.product, ctx.params.TaskId, ctx.config.queryWindowDays, ctx.now);
  // Canceled tasks are finished: WaitForTasks calls and the webhook notifier of this process look
  // again now (other processes find them on their next poll).
  if (tasks.some((t) => t.CanceledItems > 0)) emitProgress();
  return { Tasks: tasks, TotalCount: tasks.length };
};
