import { describeTasks } from '../../domain/describe.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

/** DescribeRefreshTasks (rows under Tasks.CDNTask), also serving DescribeVodRefreshTasks (Tasks.Task). */
export const describeRefreshTasks: Handler<typeof CDN_ACTIONS.DescribeRefreshTasks> = async (ctx) => {
  const p = ctx.params;
  const { total, rows } = await describeTasks(ctx.store, {
    accountId: ctx.account.id,
    product: ctx.product.product,
    taskId: p.TaskId,
    objectPath: p.ObjectPath,
    objectType: p.ObjectType,
    domainName: p.DomainName,
    status: p.Status,
    unconfirmedAs: ctx.action.taskList?.element ? ctx.action.taskList.unconfirmedAs : undefined,
    startTime: p.StartTime,
    endTime: p.EndTime,
    pageNumber: p.PageNumber,
    pageSize: p.PageSize,
  }, ctx.config.queryWindowDays, ctx.now);
  const element = ctx.action.taskList?.element ?? 'CDNTask';
  return { PageNumber: p.PageNumber, PageSize: p.PageSize, TotalCount: total, Tasks: { [element]: rows } };
};
