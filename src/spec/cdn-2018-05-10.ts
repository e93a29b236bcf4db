import {
  area, CDN_STATUS, clientToken, DESCRIBE_ERRORS, DESCRIBE_RULES, describeFilters, force, l2Preload, objectPathSubmit, refreshObjectType,
  REFRESH_SAMPLES, SUBMIT_ERRORS, TASK_ROW_RESULT, taskIdList, VERIFICATION_NOTE, verifyUrl, withHeader,
} from './params.js';
import { cancelRefreshTasks, describeTaskNodes, waitForTasks } from './extensions.js';
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
      ClientToken: clientToken(),
      VerifyUrl: verifyUrl(REFRESH_SAMPLES),
    },
    errors: [...SUBMIT_ERRORS, 'InvalidObjectType.ValueNotSupported'],
    result: { RequestId: 'string', RefreshTaskId: 'string — task ids, comma-separated, one per domain' },
    notes: [VERIFICATION_NOTE],
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
      ClientToken: clientToken(),
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
      ...describeFilters({ maxPageSize: 100, objectTypes: ['file', 'directory', 'regex', 'ignoreparams', 'preload', 'block', 'unblock', 'cachetag'] }),
      Status: CDN_STATUS,
      ResourceGroupId: {
        type: 'string',
        maxLength: 128,
        doc: 'Only rows of domains in this resource group.',
        limitation: 'Accepted and ignored: refreshd has no resource groups, so every row matches.',
      },
    },
    rules: DESCRIBE_RULES,
    errors: DESCRIBE_ERRORS,
    taskList: { element: 'CDNTask', unconfirmedAs: 'Refreshing' },
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
  RefreshObjectCacheByCacheTag: defineAction({
    name: 'RefreshObjectCacheByCacheTag',
    summary: 'Purge every object of one domain that the origin tagged with one of these cache tags. One task; one row per tag.',
    ramAction: 'cdn:RefreshObjectCacheByCacheTag',
    resource: 'domain',
    rateLimit: { perSecond: 50, error: 'Throttling' },
    params: {
      CacheTag: {
        type: 'string',
        required: true,
        maxLength: 1400,
        doc: 'Cache tags, comma-separated: at most 10, each 1–128 visible ASCII characters (no comma or space).',
      },
      DomainName: { type: 'string', required: true, maxLength: 253, doc: 'The accelerated domain whose tagged objects are purged.' },
      Force: {
        type: 'boolean',
        default: false,
        doc: 'true: drop the objects, the next request fetches them from the origin; false (default): mark them stale, so the next request revalidates them with the origin.',
      },
      ClientToken: clientToken(),
      VerifyUrl: verifyUrl('Each is a URL of DomainName that carries every tag of the call (each tag is verified on every sample).'),
    },
    errors: ['MissingParameter', 'InvalidParameter', 'SingleRequest.OverLimit', 'InvalidDomain.NotFound', 'InvalidDomain.Offline', 'QuotaExceeded.Refresh', 'IdempotentParameterMismatch'],
    result: { RequestId: 'string', RefreshTaskId: 'string — the task id' },
    notes: [
      'Quota: each tag counts as one directory against the daily DirQuota (RefreshDirQuota in DescribeCdnUserQuota): a tag names a set of objects, as a directory does, and costs the caches as much.',
      'DescribeRefreshTasks and DescribeRefreshTaskById list one row per tag, with ObjectType `cachetag` and the tag as ObjectPath; `ObjectType=cachetag` filters them.',
      'The origin tags objects with `Cache-Tag: a,b` or `Surrogate-Key: a b` (or a header the Varnish VCL is configured with). Varnish nodes purge through xkey (Force=false: soft purge); the simulated fleet confirms; nginx, Traffic Server and Squid keep no tags, so their nodes refuse with the reason and the row is Failed.',
      'Verification: a tag names objects only the origin knows, so without VerifyUrl each node\'s outcome is its answer (Verified `Ack` in DescribeRefreshTaskNodes); with VerifyUrl, nodes that verify by probe look at the samples (Verified `Probe`).',
    ],
  }),
  DescribePreloadDetailById: defineAction({
    name: 'DescribePreloadDetailById',
    summary: 'Per-URL detail of one preload task (last 3 days): how many nodes warmed each URL, and why others failed.',
    ramAction: 'cdn:DescribePreloadDetailById',
    resource: '*',
    rateLimit: { perSecond: 30, error: 'Throttling' },
    params: { TaskId: { type: 'string', required: true, maxLength: 64, doc: 'One task id, as PushObjectCache answered it.' } },
    errors: ['MissingParameter', 'InvalidParameter', 'InvalidTaskId.Malformed'],
    result: {
      RequestId: 'string',
      TotalCount: 'integer — tasks returned (0 or 1)',
      'UrlDetails[]': 'TaskId, Domain, CreationTime, EndTime, Process, RetCode, Status; Urls[]: Url, Success, Description',
    },
    notes: [
      'Alibaba keeps this action for customers above 100 Gbps; refreshd answers it for every account, from the per-node facts of DescribeRefreshTaskNodes.',
      'Status is Complete, Refreshing or Failed (a task no node has confirmed yet is Refreshing); Process is the share of node confirmations of all its URLs, floored, as in DescribeRefreshTasks.',
      'RetCode is `0` when every URL was warmed on every node, `1` when some failed, empty while the task runs. EndTime is when the last node finished (warmed the URL, or gave up), once the task is Complete or Failed; empty before.',
      'Per URL: Url as submitted; Success the share of nodes that warmed it; Description `Successfully preloaded`, or the documented failure description (`Origin Return StatusCode 5XX`, `Origin Timeout`, `Internal Error`), empty while nodes are still working.',
      'An unknown task id, or one that is not a preload, answers TotalCount 0 and no UrlDetails.',
      "CDN only: VOD's 2017-03-21 API has no such action (DescribeRefreshTaskNodes gives the per-node facts of VOD preloads).",
    ],
  }),
  DescribeCdnUserQuota: defineAction({
    name: 'DescribeCdnUserQuota',
    summary: "The account's quotas and what remains of them today (UTC), as numbers.",
    ramAction: 'cdn:DescribeCdnUserQuota',
    resource: '*',
    rateLimit: { perSecond: 30, error: 'Throttling' },
    params: {},
    errors: [],
    result: {
      RequestId: 'string',
      'DomainQuota, BlockQuota, BlockRemain, IgnoreParamsQuota, IgnoreParamsRemain, PreloadQuota, PreloadRemain, RefreshDirQuota, RefreshDirRemain, RefreshUrlQuota, RefreshUrlRemain':
        'integer',
    },
    notes: [
      'The same daily buckets as DescribeRefreshQuota (Url, Dir, IgnoreParams, Preload, Block), as numbers: RefreshUrl* is UrlQuota/UrlRemain, RefreshDir* is DirQuota/DirRemain (directories and cache tags).',
      "DomainQuota is Alibaba's default of 50 domains per account; refreshd does not enforce it (an operator adds domains with `refreshd domain add`).",
    ],
  }),
  DescribeRefreshTaskNodes: describeTaskNodes('cdn'),
  WaitForTasks: waitForTasks('cdn'),
  CancelRefreshTasks: cancelRefreshTasks('cdn'),
};

export const CDN: ProductSpec = {
  product: 'cdn',
  version: '2018-05-10',
  serviceName: 'CDN',
  hostId: 'cdn.aliyuncs.com',
  actions: CDN_ACTIONS,
};
