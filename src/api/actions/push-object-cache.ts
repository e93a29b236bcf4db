import { manifestExpansion } from '../../domain/manifest-preload.js';
import { submit } from '../../domain/submit.js';
import { OriginFetcher } from '../../manifest/fetch.js';
import { parseWithHeader } from '../../domain/with-header.js';
import type { VOD_ACTIONS } from '../../spec/vod-2017-03-21.js';
import type { Handler } from '../context.js';

/**
 * PushObjectCache (CDN, answers PushTaskId), also serving PreloadVodObjectCaches (VOD, answers
 * PreloadTaskId). Typed by the VOD entry: the parameters both have (CDN's QueryHashkey is ignored).
 * With ExpandManifest, the manifests are read from their origins before the submit.
 */
export const pushObjectCache: Handler<typeof VOD_ACTIONS.PreloadVodObjectCaches> = async (ctx) => {
  const p = ctx.params;
  const withHeader = p.WithHeader;
  if (withHeader !== undefined) parseWithHeader(withHeader);
  const ids = await submit(ctx.store, ctx.config, {
    accountId: ctx.account.id,
    product: ctx.product.product,
    objectPath: p.ObjectPath,
    type: 'preload',
    force: false,
    area: p.Area ?? null,
    l2Preload: p.L2Preload,
    withHeader: withHeader ?? null,
    clientToken: p.ClientToken,
    expand: p.ExpandManifest ? manifestExpansion(ctx.config.manifests, (signal) => new OriginFetcher({ ...ctx.config.manifests, signal })) : undefined,
  }, ctx.now, ctx.handOff);
  const field = ctx.product.product === 'cdn' ? 'PushTaskId' : 'PreloadTaskId';
  return { [field]: ids.join(',') };
};
