import { submit } from '../../domain/submit.js';
import { invalid } from '../../spec/errors.js';
import type { Handler } from '../context.js';

/** PushObjectCache (CDN, answers PushTaskId) and PreloadVodObjectCaches (VOD, answers PreloadTaskId). */
export const submitPreload: Handler = async (ctx) => {
  const p = ctx.params;
  const withHeader = p.WithHeader as string | undefined;
  if (withHeader !== undefined) checkWithHeader(withHeader);
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
