import { describeTaskIds } from '../../domain/describe.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

/** DescribeRefreshTaskById: `Tasks` is the bare array (seed 001), not `{CDNTask: [...]}`. */
export const describeRefreshTaskById: Handler<typeof CDN_ACTIONS.DescribeRefreshTaskById> = async (ctx) => {
  const rows = await describeTaskIds(ctx.store, ctx.account.id, ctx.product.product, ctx.params.TaskId, ctx.config.queryWindowDays, ctx.now);
  return { Tasks: rows, TotalCount: rows.length };
};
