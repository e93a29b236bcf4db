import { todaysQuota, type QuotaKind } from '../../domain/quota.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

/** Alibaba's default domains per account; refreshd reports it but does not enforce it (domains are added by an operator). */
const DOMAIN_QUOTA = 50;

/** Wire field names per quota kind: the buckets of DescribeRefreshQuota, named as the CDN user-quota model names them. */
const FIELDS: [QuotaKind, string, string][] = [
  ['block', 'BlockQuota', 'BlockRemain'],
  ['ignoreParams', 'IgnoreParamsQuota', 'IgnoreParamsRemain'],
  ['preload', 'PreloadQuota', 'PreloadRemain'],
  ['dir', 'RefreshDirQuota', 'RefreshDirRemain'],
  ['url', 'RefreshUrlQuota', 'RefreshUrlRemain'],
];

/** DescribeCdnUserQuota: today's (UTC) quotas and remainders, as numbers (DescribeRefreshQuota has strings). */
export const describeCdnUserQuota: Handler<typeof CDN_ACTIONS.DescribeCdnUserQuota> = async (ctx) => {
  const today = await todaysQuota(ctx.store, ctx.config.quotas.cdn, ctx.account.id, 'cdn', ctx.now, FIELDS.map(([kind]) => kind));
  const out: Record<string, number> = { DomainQuota: DOMAIN_QUOTA };
  for (const [kind, quotaField, remainField] of FIELDS) {
    out[quotaField] = today[kind].quota;
    out[remainField] = today[kind].remain;
  }
  return out;
};
