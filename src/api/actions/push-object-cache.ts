import { submit } from '../../domain/submit.js';
import { invalid } from '../../spec/errors.js';
import type { VOD_ACTIONS } from '../../spec/vod-2017-03-21.js';
import type { Handler } from '../context.js';

/**
 * PushObjectCache (CDN, answers PushTaskId), also serving PreloadVodObjectCaches (VOD, answers
 * PreloadTaskId). Typed by the VOD entry: the parameters both have (CDN's QueryHashkey is ignored).
 */
export const pushObjectCache: Handler<typeof VOD_ACTIONS.PreloadVodObjectCaches> = async (ctx) => {
  const p = ctx.params;
  const withHeader = p.WithHeader;
  if (withHeader !== undefined) checkWithHeader(withHeader);
  const ids = await submit(ctx.store, ctx.config, {
    accountId: ctx.account.id,
    product: ctx.product.product,
    objectPath: p.ObjectPath,
    type: 'preload',
    force: false,
    area: p.Area ?? null,
    l2Preload: p.L2Preload,
    withHeader: withHeader ?? null,
  }, ctx.now);
  const field = ctx.product.product === 'cdn' ? 'PushTaskId' : 'PreloadTaskId';
  return { [field]: ids.join(',') };
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const HEADER_VALUE = /^[^\u0000-\u001f\u007f]*$/;

/** WithHeader is a JSON object of header-name → array of values; anything else is refused. */
function checkWithHeader(text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('WithHeader');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('WithHeader');
  for (const [name, values] of Object.entries(parsed)) {
    if (!HEADER_NAME.test(name) || !Array.isArray(values)) throw invalid('WithHeader');
    if (!values.every((v) => typeof v === 'string' && HEADER_VALUE.test(v))) throw invalid('WithHeader');
  }
}
