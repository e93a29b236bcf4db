import { dayBucket, utcDay, type QuotaKind } from '../../domain/quota.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

/** Wire field names per quota kind; VOD reports fewer kinds (and spells `blockRemain` in lower case). */
const CDN_FIELDS: [QuotaKind, string, string][] = [
  ['url', 'UrlQuota', 'UrlRemain'],
  ['dir', 'DirQuota', 'DirRemain'],
  ['regex', 'RegexQuota', 'RegexRemain'],
  ['ignoreParams', 'IgnoreParamsQuota', 'IgnoreParamsRemain'],
  ['preload', 'PreloadQuota', 'PreloadRemain'],
  ['preloadEdge', 'PreloadEdgeQuota', 'PreloadEdgeRemain'],
  ['block', 'BlockQuota', 'BlockRemain'],
];
const VOD_FIELDS: [QuotaKind, string, string][] = [
  ['url', 'UrlQuota', 'UrlRemain'],
  ['dir', 'DirQuota', 'DirRemain'],
  ['preload', 'PreloadQuota', 'PreloadRemain'],
  ['block', 'BlockQuota', 'blockRemain'],
];

/** DescribeRefreshQuota, also serving DescribeVodRefreshQuota: today's (UTC) quotas and remainders, as strings. */
export const describeRefreshQuota: Handler<typeof CDN_ACTIONS.DescribeRefreshQuota> = async (ctx) => {
  const product = ctx.product.product;
  const fields = product === 'cdn' ? CDN_FIELDS : VOD_FIELDS;
  const day = utcDay(ctx.now);
  const buckets = fields.map(([kind]) => dayBucket(ctx.account.id, product, day, kind));
  const used = await ctx.store.usage(buckets);
  const limits = ctx.config.quotas[product];
  const out: Record<string, string> = {};
  fields.forEach(([kind, quotaField, remainField], i) => {
    out[quotaField] = String(limits[kind]);
    out[remainField] = String(Math.max(0, limits[kind] - used[buckets[i]]));
  });
  return out;
};
