import { submit } from '../../domain/submit.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

/** RefreshObjectCaches (CDN), also serving RefreshVodObjectCaches (VOD): same parameters and answer. */
export const refreshObjectCaches: Handler<typeof CDN_ACTIONS.RefreshObjectCaches> = async (ctx) => {
  const p = ctx.params;
  const ids = await submit(ctx.store, ctx.config, {
    accountId: ctx.account.id,
    product: ctx.product.product,
    objectPath: p.ObjectPath,
    type: SUBMIT_TYPE[p.ObjectType],
    // Purge-then-warm purges hard: a copy only marked stale could be served, or revalidated, by the warm-up.
    force: p.Force || p.PreloadAfter,
    area: null,
    l2Preload: false,
    withHeader: null,
    clientToken: p.ClientToken,
    preloadAfter: p.PreloadAfter,
    verifyUrl: p.VerifyUrl ?? null,
  }, ctx.now, ctx.handOff);
  return { RefreshTaskId: ids.join(',') };
};

const SUBMIT_TYPE = { File: 'file', Directory: 'directory', Regex: 'regex', IgnoreParams: 'ignoreparams' } as const;
