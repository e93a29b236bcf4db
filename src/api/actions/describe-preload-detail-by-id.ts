import { preloadDetail } from '../../domain/preload-detail.js';
import { DAY_MS } from '../../domain/quota.js';
import { TASK_ID } from '../../domain/task-id.js';
import { ApiError } from '../../spec/errors.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

/** DescribePreloadDetailById: one preload task of the last 3 days, URL by URL; nothing for any other id. */
export const describePreloadDetailById: Handler<typeof CDN_ACTIONS.DescribePreloadDetailById> = async (ctx) => {
  const id = ctx.params.TaskId.trim();
  if (!TASK_ID.test(id)) throw new ApiError('InvalidTaskId.Malformed');
  const product = ctx.product.product;
  const from = ctx.now - ctx.config.queryWindowDays * DAY_MS;
  const items = await ctx.store.tasks.itemsOfTasks(ctx.account.id, product, [id], from);
  if (items.length === 0 || items[0].objectType !== 'preload') return { TotalCount: 0, UrlDetails: [] };
  const attempts = await ctx.store.tasks.attemptsOfItems(ctx.account.id, product, items.map((i) => i.itemId), from);
  return { TotalCount: 1, UrlDetails: [preloadDetail(items, attempts)] };
};
