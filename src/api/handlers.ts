import { CDN_ACTIONS } from '../spec/cdn-2018-05-10.js';
import type { ActionSpec } from '../spec/types.js';
import { VOD_ACTIONS } from '../spec/vod-2017-03-21.js';
import { cancelRefreshTasks } from './actions/cancel-refresh-tasks.js';
import { describeCdnUserQuota } from './actions/describe-cdn-user-quota.js';
import { describePreloadDetailById } from './actions/describe-preload-detail-by-id.js';
import { describeRefreshQuota } from './actions/describe-refresh-quota.js';
import { describeRefreshTaskById } from './actions/describe-refresh-task-by-id.js';
import { describeRefreshTaskNodes } from './actions/describe-refresh-task-nodes.js';
import { describeRefreshTasks } from './actions/describe-refresh-tasks.js';
import { pushObjectCache } from './actions/push-object-cache.js';
import { refreshObjectCacheByCacheTag } from './actions/refresh-object-cache-by-cache-tag.js';
import { refreshObjectCaches } from './actions/refresh-object-caches.js';
import { waitForTasks } from './actions/wait-for-tasks.js';
import type { Handler } from './context.js';

type Tables = typeof CDN_ACTIONS & typeof VOD_ACTIONS;

/**
 * Action name → handler, for every action of every product table. The type checks each handler
 * against its own table entry, so a VOD action served by the CDN handler must have parameters
 * that handler can read.
 */
export const HANDLERS: { [K in keyof Tables]: Handler<Tables[K]> } = {
  RefreshObjectCaches: refreshObjectCaches,
  PushObjectCache: pushObjectCache,
  DescribeRefreshTasks: describeRefreshTasks,
  DescribeRefreshTaskById: describeRefreshTaskById,
  DescribeRefreshQuota: describeRefreshQuota,
  RefreshObjectCacheByCacheTag: refreshObjectCacheByCacheTag,
  DescribePreloadDetailById: describePreloadDetailById,
  DescribeCdnUserQuota: describeCdnUserQuota,
  RefreshVodObjectCaches: refreshObjectCaches,
  PreloadVodObjectCaches: pushObjectCache,
  DescribeVodRefreshTasks: describeRefreshTasks,
  DescribeVodRefreshQuota: describeRefreshQuota,
  DescribeRefreshTaskNodes: describeRefreshTaskNodes,
  WaitForTasks: waitForTasks,
  CancelRefreshTasks: cancelRefreshTasks,
};

/**
 * The handler of a table entry found by name at run time. validateParams has read the
 * parameters from that same entry, so the generic context fits the handler's own.
 */
export function handlerFor(action: ActionSpec): Handler | undefined {
  return Object.hasOwn(HANDLERS, action.name) ? (HANDLERS[action.name as keyof Tables] as Handler) : undefined;
}
