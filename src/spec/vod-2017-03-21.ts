import {
  EXPAND_MANIFEST_NOTES, expandManifest, PRELOAD_AFTER_NOTES, PRELOAD_AFTER_RULE, preloadAfter,
  area, DESCRIBE_ERRORS, DESCRIBE_RULES, describeFilters, force, l2Preload, objectPathSubmit, refreshObjectType, SUBMIT_ERRORS, clientToken,
  REFRESH_SAMPLES, TASK_ROW_RESULT, VERIFICATION_NOTE, verifyUrl, withHeader,
} from './params.js';
import { cancelRefreshTasks, describeTaskNodes, waitForTasks } from './extensions.js';
import { defineAction, type ProductSpec } from './types.js';

/** VOD `2017-03-21` refresh actions (seed 002 for DescribeVodRefreshTasks). */
export const VOD_ACTIONS = {
  RefreshVodObjectCaches: defineAction({
    name: 'RefreshVodObjectCaches',
    summary: 'Purge URLs or directories of VOD domains.',
    ramAction: 'vod:RefreshVodObjectCaches',
    resource: '*',
    rateLimit: { perSecond: 50, error: 'Throttling' },
    params: {
      ObjectPath: objectPathSubmit('At most 1,000 URLs, 100 directories or 1 regex per call, over at most 10 domains.'),
      ObjectType: refreshObjectType(),
      Force: force(),
      ClientToken: clientToken(),
      PreloadAfter: preloadAfter(),
      VerifyUrl: verifyUrl(REFRESH_SAMPLES),
    },
    rules: [PRELOAD_AFTER_RULE],
    errors: [...SUBMIT_ERRORS, 'InvalidObjectType.ValueNotSupported', 'InvalidParameter.PreloadAfter'],
    result: { RequestId: 'string', RefreshTaskId: 'string — task ids, comma-separated' },
    notes: [...PRELOAD_AFTER_NOTES, VERIFICATION_NOTE],
  }),
  PreloadVodObjectCaches: defineAction({
    name: 'PreloadVodObjectCaches',
    summary: 'Preload URLs of VOD domains.',
    ramAction: 'vod:PreloadVodObjectCaches',
    resource: '*',
    rateLimit: { perSecond: 50, error: 'Throttling' },
    params: {
      ObjectPath: objectPathSubmit('At most 100 URLs per call.'),
      Area: area(),
      L2Preload: l2Preload(),
      WithHeader: withHeader(),
      ClientToken: clientToken(),
      ExpandManifest: expandManifest(),
    },
    errors: [...SUBMIT_ERRORS, 'PreloadQueueFull', 'InvalidManifest.FetchFailed', 'InvalidManifest.Malformed'],
    result: { RequestId: 'string', PreloadTaskId: 'string — task ids, comma-separated' },
    notes: EXPAND_MANIFEST_NOTES,
  }),
  DescribeVodRefreshTasks: defineAction({
    name: 'DescribeVodRefreshTasks',
    summary: 'List VOD refresh/preload rows of the last 3 days, newest first.',
    ramAction: 'vod:DescribeVodRefreshTasks',
    resource: '*',
    rateLimit: { perSecond: 5, error: 'Throttling' },
    params: describeFilters({ maxPageSize: 50, objectTypes: ['file', 'directory', 'regex', 'ignoreparams', 'preload'] }),
    rules: DESCRIBE_RULES,
    errors: DESCRIBE_ERRORS,
    taskList: { element: 'Task' },
    result: { RequestId: 'string', PageNumber: 'integer', PageSize: 'integer', TotalCount: 'integer', 'Tasks.Task[]': TASK_ROW_RESULT },
  }),
  DescribeVodRefreshQuota: defineAction({
    name: 'DescribeVodRefreshQuota',
    summary: "Today's VOD quotas and what remains.",
    ramAction: 'vod:DescribeVodRefreshQuota',
    resource: '*',
    rateLimit: { perSecond: 20, error: 'Throttling' },
    params: {},
    errors: [],
    result: {
      RequestId: 'string',
      'UrlQuota, UrlRemain, DirQuota, DirRemain, PreloadQuota, PreloadRemain, BlockQuota, blockRemain': 'string (decimal; `blockRemain` is lower-case in the VOD model)',
    },
  }),
  DescribeRefreshTaskNodes: describeTaskNodes('vod'),
  WaitForTasks: waitForTasks('vod'),
  CancelRefreshTasks: cancelRefreshTasks('vod'),
};

/** VOD `2017-03-21` refresh actions (seed 002 for DescribeVodRefreshTasks; docs/protocol.md §7.4). */
export const VOD: ProductSpec = {
  product: 'vod',
  version: '2017-03-21',
  serviceName: 'VOD',
  hostId: 'vod.cn-shanghai.aliyuncs.com',
  actions: VOD_ACTIONS,
};
