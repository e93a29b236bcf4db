import { describeQuota } from './actions/describe-quota.js';
import { describeTaskById } from './actions/describe-task-by-id.js';
import { describeTaskNodes } from './actions/describe-task-nodes.js';
import { describeTaskList } from './actions/describe-tasks.js';
import { submitPreload } from './actions/submit-preload.js';
import { submitRefresh } from './actions/submit-refresh.js';
import { waitForTasks } from './actions/wait-for-tasks.js';
import type { Handler } from './context.js';

/** Action name → handler, for every action of every product table. */
export const HANDLERS: Record<string, Handler> = {
  RefreshObjectCaches: submitRefresh,
  PushObjectCache: submitPreload,
  DescribeRefreshTasks: describeTaskList,
  DescribeRefreshTaskById: describeTaskById,
  DescribeRefreshQuota: describeQuota,
  RefreshVodObjectCaches: submitRefresh,
  PreloadVodObjectCaches: submitPreload,
  DescribeVodRefreshTasks: describeTaskList,
  DescribeVodRefreshQuota: describeQuota,
  DescribeRefreshTaskNodes: describeTaskNodes,
  WaitForTasks: waitForTasks,
};
