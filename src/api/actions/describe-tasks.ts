import { describeTasks } from '../../domain/describe.js';
import type { Handler } from '../context.js';

/** DescribeRefreshTasks (rows under Tasks.CDNTask) and DescribeVodRefreshTasks (Tasks.Task). */
export const describeTaskList: Handler = async (ctx) => {
  const p = ctx.params;
  const pageNumber = p.PageNumber as number;
  const pageSize = p.PageSize as number;
  const { total, rows } = await describeTasks(ctx.store, {
    accountId: ctx.account.id,
    product: ctx.product.product,
    taskId: p.TaskId as string | undefined,
    objectPath: p.ObjectPath as string | undefined,
    objectType: p.ObjectType as string | undefined,
    domainName: p.DomainName as string | undefined,
    status: p.Status as string | undefined,
    startTime: p.StartTime as string | undefined,
    endTime: p.EndTime as string | undefined,
    pageNumber,
    pageSize,
  }, ctx.config.queryWindowDays, ctx.now);
  const element = ctx.action.taskList?.element ?? 'CDNTask';
  return { PageNumber: pageNumber, PageSize: pageSize, TotalCount: total, Tasks: { [element]: rows } };
};
