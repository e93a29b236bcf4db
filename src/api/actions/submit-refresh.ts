import { submit } from '../../domain/submit.js';
import type { SubmitType } from '../../domain/object-path.js';
import type { Handler } from '../context.js';

/** RefreshObjectCaches (CDN) and RefreshVodObjectCaches (VOD). */
export const submitRefresh: Handler = async (ctx) => {
  const p = ctx.params;
  const ids = await submit(ctx.store, ctx.config, {
    accountId: ctx.account.id,
    product: ctx.product.product,
    objectPath: p.ObjectPath as string,
    type: (p.ObjectType as string).toLowerCase() as SubmitType,
    force: p.Force as boolean,
    area: null,
    l2Preload: false,
    withHeader: null,
  }, ctx.now, ctx.handOff);
  return { RefreshTaskId: ids.join(',') };
};
