import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { authorize } from '../identity/authorize.js';
import { authenticate, type Authenticated, type KeyRecord } from '../protocol/authenticate.js';
import { parseParams, type WireRequest } from '../protocol/request.js';
import { errorBody, parseFormat, renderError, renderSuccess, type WireFormat } from '../protocol/serialize.js';
import { ApiError, missing } from '../spec/errors.js';
import { productForVersion, PRODUCTS } from '../spec/index.js';
import type { ActionSpec, ProductSpec } from '../spec/types.js';
import type { TaskStore } from '../store/port.js';
import { HANDLERS } from './handlers.js';
import { validateParams } from './validate.js';

export interface ApiDeps {
  store: TaskStore;
  config: Config;
  logger: Logger;
  now?: () => number;
}

/** The answer to one RPC call, ready for any HTTP layer to send. */
export interface RpcAnswer {
  status: number;
  contentType: string;
  body: string;
  headers: Record<string, string>;
  requestId: string;
  /** For logs and audit: what was asked and what came of it. */
  action?: string;
  code?: string;
  accessKeyId?: string;
}

/**
 * One RPC call end to end: authenticate → route → service state → authorize → rate limit →
 * validate → handler. Every failure becomes a catalogue error; anything unexpected is logged
 * with the RequestId and answered as InternalError, never with its internals.
 */
export async function handleRpc(req: WireRequest, deps: ApiDeps): Promise<RpcAnswer> {
  const now = deps.now ?? Date.now;
  const requestId = randomUUID().toUpperCase();
  let format: WireFormat = 'JSON';
  let product: ProductSpec = PRODUCTS[0];
  let auth: Authenticated | undefined;
  let action: ActionSpec | undefined;
  try {
    if (req.method !== 'GET' && req.method !== 'POST') throw new ApiError('UnsupportedHTTPMethod');
    const params = parseParams(req);
    format = parseFormat(params.all.get('Format'), 'JSON') ?? 'JSON';
    auth = await authenticate(req, params, {
      findKey: (id) => findKey(deps.store, id),
      useNonce: (id, nonce, exp) => deps.store.useNonce(id, nonce, exp),
      now,
      skewMs: deps.config.signatureSkewMs,
    });
    // Alibaba's RPC default is XML when Format is absent; ACS3 requests carry no Format and get JSON.
    const chosen = parseFormat(auth.format, auth.scheme === 'v1' ? 'XML' : 'JSON');
    if (!chosen) throw new ApiError('InvalidParameter.Format');
    format = chosen;
    if (!auth.version) throw missing('Version');
    const routed = productForVersion(auth.version);
    if (!routed) throw new ApiError('InvalidVersion');
    product = routed;
    if (!auth.action) throw missing('Action');
    action = Object.hasOwn(product.actions, auth.action) ? product.actions[auth.action] : undefined;
    if (!action) throw new ApiError('InvalidAction.NotFound');

    const account = await deps.store.getAccount(auth.key.accountId);
    if (!account) throw new ApiError('InvalidAccessKeyId.NotFound');
    const service = account.services[product.product];
    if (service === 'none') throw new ApiError('OperationDenied', { vars: { Product: product.serviceName } });
    if (service === 'suspended') throw new ApiError('OperationDenied.Suspended', { vars: { Product: product.serviceName } });
    authorize(auth.key, account, action);

    const at = now();
    if (deps.config.rateLimits) {
      const principal = `${auth.key.accountId}/${auth.key.userName ?? ''}`;
      const waitMs = await deps.store.takeRate(`${principal}/${product.product}:${action.name}`, action.rateLimit.perSecond, at);
      if (waitMs > 0) throw new ApiError(action.rateLimit.error, { headers: { 'x-acs-retry-after': String(waitMs) } });
    }
    const typed = validateParams(action, params.all);
    const result = await HANDLERS[action.name]({
      store: deps.store, config: deps.config, product, action, account, key: auth.key, params: typed, now: at,
    });
    const rendered = renderSuccess(action.name, { RequestId: requestId, ...result }, format);
    return { status: 200, ...rendered, headers: { 'x-acs-request-id': requestId }, requestId, action: action.name, accessKeyId: auth.key.accessKeyId };
  } catch (err) {
    const apiErr = err instanceof ApiError ? err : internal(err, requestId, deps.logger);
    const rendered = renderError(errorBody(apiErr, requestId, product.hostId, product.serviceName === 'CDN' ? 'Cdn' : 'vod'), format);
    return {
      status: apiErr.status, ...rendered, headers: { 'x-acs-request-id': requestId, ...apiErr.headers }, requestId,
      action: action?.name ?? auth?.action, code: apiErr.code, accessKeyId: auth?.key.accessKeyId,
    };
  }
}

async function findKey(store: TaskStore, id: string): Promise<KeyRecord | undefined> {
  const k = await store.findAccessKey(id);
  return k && { accessKeyId: k.accessKeyId, secret: k.secret, active: k.active, accountId: k.accountId, userName: k.userName ?? undefined };
}

/**
 * Anything that is not a catalogue error. A store that is busy (another writer holds the lock
 * past the busy timeout) is a temporary condition the client may retry: ServiceUnavailable.
 * Everything else is logged with the RequestId and answered InternalError, without internals.
 */
function internal(err: unknown, requestId: string, logger: Logger): ApiError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    logger.warn({ err, requestId }, 'store busy');
    return new ApiError('ServiceUnavailable');
  }
  logger.error({ err, requestId }, 'unexpected error while handling a request');
  return new ApiError('InternalError');
}
