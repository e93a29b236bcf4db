import { submit } from '../../domain/submit.js';
import { parseWithHeader } from '../../domain/with-header.js';
import type { Handler } from '../context.js';

/** PushObjectCache (CDN, answers PushTaskId) and PreloadVodObjectCaches (VOD, answers PreloadTaskId). */
export const submitPreload: Handler = async (ctx) => {
  const p = ctx.params;
  const withHeader = p.WithHeader as string | undefined;
  if (withHeader !== undefined) parseWithHeader(withHeader);
  const ids = await submit(ctx.store, ctx.config, {
    accountId: ctx.account.id,
    product: ctx.product.product,
    objectPath: p.ObjectPath as string,
    type: 'preload',
    force: false,
    area: (p.Area as string | undefined) ?? null,
    l2Preload: p.L2Preload as boolean,
    withHeader: withHeader ?? null,
  }, ctx.now, ctx.handOff);
  const field = ctx.product.product === 'cdn' ? 'PushTaskId' : 'PreloadTaskId';
  return { [field]: ids.join(',') };
};
