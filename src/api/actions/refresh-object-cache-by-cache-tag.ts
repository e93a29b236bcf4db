import { submitTags } from '../../domain/submit.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

/** RefreshObjectCacheByCacheTag: one task for the domain, one row per tag. */
export const refreshObjectCacheByCacheTag: Handler<typeof CDN_ACTIONS.RefreshObjectCacheByCacheTag> = async (ctx) => {
  const p = ctx.params;
  const id = await submitTags(ctx.store, ctx.config, {
    accountId: ctx.account.id, product: ctx.product.product, domain: p.DomainName, cacheTag: p.CacheTag, force: p.Force, clientToken: p.ClientToken,
    verifyUrl: p.VerifyUrl,
  }, ctx.now, ctx.handOff);
  return { RefreshTaskId: id };
};
