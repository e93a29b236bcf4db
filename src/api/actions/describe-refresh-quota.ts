import { todaysQuota, type QuotaKind } from '../../domain/quota.js';
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
  const today = await todaysQuota(ctx.store, ctx.config.quotas[product], ctx.account.id, product, ctx.now, fields.map(([kind]) => kind));
  const out: Record<string, string> = {};
  for (const [kind, quotaField, remainField] of fields) {
    out[quotaField] = String(today[kind].quota);
    out[remainField] = String(today[kind].remain);
  }
  return out;
};
