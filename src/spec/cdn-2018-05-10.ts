import {
  area, DESCRIBE_ERRORS, DESCRIBE_RULES, describeFilters, force, l2Preload, objectPathSubmit, refreshObjectType, SUBMIT_ERRORS,
  TASK_ROW_RESULT, taskIdList, withHeader,
} from './params.js';
import { describeTaskNodes, waitForTasks } from './extensions.js';
import { defineAction, type ProductSpec } from './types.js';

/** CDN `2018-05-10`: the refresh, preload and query actions (seeds 000, 001, 003, 004; newest wins). */
export const CDN_ACTIONS = {
  RefreshObjectCaches: defineAction({
    name: 'RefreshObjectCaches',
    summary: 'Purge URLs, directories, a regex or parameter-ignoring URLs. One task per domain; ids comma-joined.',
    ramAction: 'cdn:RefreshObjectCaches',
    resource: '*',
    rateLimit: { perSecond: 50, error: 'Throttling' },
    params: {
      ObjectPath: objectPathSubmit('At most 1,000 URLs, 100 directories or 1 regex per call, over at most 10 domains.'),
      ObjectType: refreshObjectType(),
      Force: force(),
    },
    errors: [...SUBMIT_ERRORS, 'InvalidObjectType.ValueNotSupported'],
    result: { RequestId: 'string', RefreshTaskId: 'string — task ids, comma-separated, one per domain' },
  }),
  PushObjectCache: defineAction({
    name: 'PushObjectCache',
    summary: 'Preload (warm) URLs from the origin into the caches.',
    ramAction: 'cdn:PushObjectCache',
    resource: '*',
    rateLimit: { perSecond: 50, error: 'Throttling' },
    params: {
      ObjectPath: objectPathSubmit('At most 100 URLs per call, over at most 10 domains.'),
      Area: area(),
      L2Preload: l2Preload(),
      WithHeader: withHeader(),
      QueryHashkey: {
        type: 'boolean',
        default: false,
        doc: 'Whether the query string is part of the cache key of the warmed object.',
        limitation: 'Accepted and ignored: the nodes key the warmed object on the full URL, query string included, as they do for clients.',
      },
    },
    errors: [...SUBMIT_ERRORS, 'PreloadQueueFull'],
    result: { RequestId: 'string', PushTaskId: 'string — task ids, comma-separated, one per domain' },
  }),
  DescribeRefreshTasks: defineAction({
    name: 'DescribeRefreshTasks',
    summary: 'List refresh/preload rows of the last 3 days, newest first, with filters and paging.',
    ramAction: 'cdn:DescribeRefreshTasks',
    resource: 'domain',
    rateLimit: { perSecond: 5, error: 'TooManyRequests' },
    params: {
      ...describeFilters({ maxPageSize: 100, objectTypes: ['file', 'directory', 'regex', 'ignoreparams', 'preload', 'block', 'unblock'] }),
      ResourceGroupId: {
        type: 'string',
        maxLength: 128,
        doc: 'Only rows of domains in this resource group.',
        limitation: 'Accepted and ignored: refreshd has no resource groups, so every row matches.',
      },
    },
    rules: DESCRIBE_RULES,
    errors: DESCRIBE_ERRORS,
    taskList: { element: 'CDNTask' },
    result: { RequestId: 'string', PageNumber: 'integer', PageSize: 'integer', TotalCount: 'integer', 'Tasks.CDNTask[]': TASK_ROW_RESULT },
  }),
  DescribeRefreshTaskById: defineAction({
    name: 'DescribeRefreshTaskById',
    summary: 'Rows of up to 10 tasks by id (last 3 days).',
    ramAction: 'cdn:DescribeRefreshTaskById',
    resource: '*',
    rateLimit: { perSecond: 30, error: 'Throttling' },
    params: { TaskId: taskIdList() },
    errors: ['MissingParameter', 'InvalidParameter', 'InvalidTaskId.Malformed'],
    taskList: { element: null },
    result: { RequestId: 'string', TotalCount: 'integer', 'Tasks[]': TASK_ROW_RESULT },
  }),
  DescribeRefreshQuota: defineAction({
    name: 'DescribeRefreshQuota',
    summary: "Today's quotas and what remains of them (UTC day).",
    ramAction: 'cdn:DescribeRefreshQuota',
    resource: '*',
    rateLimit: { perSecond: 20, error: 'Throttling' },
    params: {},
    errors: [],
    result: {
      RequestId: 'string',
      'UrlQuota, UrlRemain, DirQuota, DirRemain, RegexQuota, RegexRemain, IgnoreParamsQuota, IgnoreParamsRemain, PreloadQuota, PreloadRemain, PreloadEdgeQuota, PreloadEdgeRemain, BlockQuota, BlockRemain':
        'string (decimal)',
    },
  }),
  DescribeRefreshTaskNodes: describeTaskNodes('cdn'),
  WaitForTasks: waitForTasks('cdn'),
};

export const CDN: ProductSpec = {
  product: 'cdn',
  version: '2018-05-10',
  serviceName: 'CDN',
  hostId: 'cdn.aliyuncs.com',
  actions: CDN_ACTIONS,
};
