import { cancelTasks } from '../../domain/cancel.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import { emitCanceled, emitProgress } from '../../worker/progress-events.js';
import type { Handler } from '../context.js';

/** CancelRefreshTasks (refreshd extension, both products): `Tasks` is the bare array, as in DescribeRefreshTaskById. */
export const cancelRefreshTasks: Handler<typeof CDN_ACTIONS.CancelRefreshTasks> = async (ctx) => {
  const tasks = await cancelTasks(ctx.store, ctx.account.id, ctx.product.product, ctx.params.TaskId, ctx.config.queryWindowDays, ctx.now);
  // Canceled tasks are finished: WaitForTasks calls and the webhook notifier of this process look
  // again now (other processes find them on their next poll), and its workers drop the attempts
  // they hold and have not started (other processes' workers hear of it from the store).
  const canceled = tasks.filter((t) => t.CanceledItems > 0).map((t) => t.TaskId);
  if (canceled.length > 0) {
    emitProgress();
    emitCanceled(canceled);
  }
  return { Tasks: tasks, TotalCount: tasks.length };
};
