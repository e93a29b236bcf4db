import { describeTaskIds } from '../../domain/describe.js';
import type { Handler } from '../context.js';

/** DescribeRefreshTaskById: `Tasks` is the bare array (seed 001), not `{CDNTask: [...]}`. */
export const describeTaskById: Handler = async (ctx) => {
  const rows = await describeTaskIds(ctx.store, ctx.account.id, ctx.product.product, ctx.params.TaskId as string, ctx.config.queryWindowDays, ctx.now);
  return { Tasks: rows, TotalCount: rows.length };
};
