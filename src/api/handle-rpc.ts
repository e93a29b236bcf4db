import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { DIRECT, type SubmitHandOff } from '../domain/submit.js';
import { auditAction, auditParams, type AuditSink } from '../identity/audit.js';
import { authorize } from '../identity/authorize.js';
import type { KeyResolver, ResolvedKey } from '../identity/keys.js';
import { authenticate, type Authenticated } from '../protocol/authenticate.js';
import { parseParams, type ParsedParams, type WireRequest } from '../protocol/request.js';
import { errorBody, parseFormat, renderError, renderSuccess, type WireFormat } from '../protocol/serialize.js';
import { ApiError, missing } from '../spec/errors.js';
import { productForVersion, PRODUCTS } from '../spec/index.js';
import type { ActionSpec, ProductSpec } from '../spec/types.js';
import { StoreBusy } from '../store/errors.js';
import type { Store } from '../store/port.js';
import { handlerFor } from './handlers.js';
import { HeldCalls } from './held-calls.js';
import { validateParams } from './validate.js';

export interface ApiDeps {
  store: Store;
  config: Config;
  logger: Logger;
  /** AccessKeys with their secrets opened (identity/keys.ts). */
  keys: KeyResolver;
  /** Where every call's audit record goes (identity/audit.ts). */
  audit?: AuditSink;
  /** How submits reach the store: through the workers of this process when there are any (worker/hand-off.ts). */
  handOff?: SubmitHandOff;
  now?: () => number;
  /** Long-polls held per AccessKey; buildServer makes one per server. */
  held?: HeldCalls;
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

/** What one call has learned so far, for its error answer and its audit record. */
interface CallState {
  requestId: string;
  format: WireFormat;
  product: ProductSpec;
  /** Set once Version named a product. */
  routed?: ProductSpec;
  params?: ParsedParams;
  /** The AccessKeyId the request names, and its key when one exists (signature checked or not). */
  namedKeyId?: string;
  namedKey?: ResolvedKey;
  auth?: Authenticated;
  action?: ActionSpec;
}

/**
 * One RPC call end to end: authenticate → route → service state → authorize → rate limit →
 * validate → handler. Every failure becomes a catalogue error; anything unexpected is logged
 * with the RequestId and answered as InternalError, never with its internals. Every call,
 * answered or refused, leaves one audit record.
 */
export async function handleRpc(req: WireRequest, deps: ApiDeps): Promise<RpcAnswer> {
  const now = deps.now ?? Date.now;
  const started = now();
  const call: CallState = { requestId: randomUUID().toUpperCase(), format: 'JSON', product: PRODUCTS[0] };
  let answer: RpcAnswer;
  try {
    answer = await dispatch(req, deps, call, now);
  } catch (err) {
    answer = failure(err, call, deps.logger);
  }
  deps.audit?.record({
    at: started,
    requestId: call.requestId,
    accountId: call.namedKey?.accountId ?? null,
    userName: call.namedKey?.userName ?? null,
    accessKeyId: call.namedKeyId?.slice(0, 128) ?? null,
    sourceIp: req.sourceIp,
    product: (call.routed ?? productForVersion(call.params?.all.get('Version') ?? header(req, 'x-acs-version')))?.product ?? null,
    action: auditAction(answer.action ?? call.params?.all.get('Action') ?? header(req, 'x-acs-action')),
    params: auditParams(call.params?.all, call.namedKey?.secret),
    status: answer.status,
    code: answer.code ?? null,
  });
  return answer;
}

async function dispatch(req: WireRequest, deps: ApiDeps, call: CallState, now: () => number): Promise<RpcAnswer> {
  if (req.method !== 'GET' && req.method !== 'POST') throw new ApiError('UnsupportedHTTPMethod');
  const params = (call.params = parseParams(req, deps.config.http.maxParams));
  call.format = parseFormat(params.all.get('Format'), 'JSON') ?? 'JSON';
  const auth = (call.auth = await authenticate(req, params, {
    findKey: async (id) => {
      call.namedKeyId = id;
      return (call.namedKey = await deps.keys.find(id));
    },
    useNonce: (id, nonce, exp) => deps.store.guards.useNonce(id, nonce, exp),
    now,
    skewMs: deps.config.signatureSkewMs,
  }));
  // Alibaba's RPC default is XML when Format is absent; ACS3 requests carry no Format and get JSON.
  const chosen = parseFormat(auth.format, auth.scheme === 'v1' ? 'XML' : 'JSON');
  if (!chosen) throw new ApiError('InvalidParameter.Format');
  call.format = chosen;
  if (!auth.version) throw missing('Version');
  const product = productForVersion(auth.version);
  if (!product) throw new ApiError('InvalidVersion');
  call.product = call.routed = product;
  if (!auth.action) throw missing('Action');
  const action = Object.hasOwn(product.actions, auth.action) ? product.actions[auth.action] : undefined;
  if (!action) throw new ApiError('InvalidAction.NotFound');
  call.action = action;

  // Read with the key, in the same statement (identity/keys.ts).
  const account = call.namedKey?.account;
  if (!account) throw new ApiError('InvalidAccessKeyId.NotFound');
  const service = account.services[product.product];
  if (service === 'none') throw new ApiError('OperationDenied', { vars: { Product: product.serviceName } });
  if (service === 'suspended') throw new ApiError('OperationDenied.Suspended', { vars: { Product: product.serviceName } });
  await authorize(deps.store, auth.key, account, product, action, params.all);

  const at = now();
  if (deps.config.rateLimits) {
    const principal = `${auth.key.accountId}/${auth.key.userName ?? ''}`;
    const waitMs = await deps.store.guards.takeRate(`${principal}/${product.product}:${action.name}`, action.rateLimit.perSecond, at);
    if (waitMs > 0) throw new ApiError(action.rateLimit.error, { headers: { 'x-acs-retry-after': String(waitMs) } });
  }
  const typed = validateParams(action, params.all);
  const handler = handlerFor(action);
  if (!handler) throw new ApiError('InvalidAction.NotFound');
  const result = await handler({
    store: deps.store, handOff: deps.handOff ?? DIRECT, config: deps.config, product, action, account, key: auth.key, params: typed, now: at,
    held: (deps.held ??= new HeldCalls(deps.config.waitForTasksPerKey)),
  });
  const rendered = renderSuccess(action.name, { RequestId: call.requestId, ...result }, call.format);
  return {
    status: 200, ...rendered, headers: { 'x-acs-request-id': call.requestId }, requestId: call.requestId,
    action: action.name, accessKeyId: auth.key.accessKeyId,
  };
}

function header(req: WireRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function failure(err: unknown, call: CallState, logger: Logger): RpcAnswer {
  const { requestId, product } = call;
  const apiErr = err instanceof ApiError ? err : internal(err, requestId, logger);
  const rendered = renderError(errorBody(apiErr, requestId, product.hostId, product.serviceName === 'CDN' ? 'Cdn' : 'vod'), call.format);
  return {
    status: apiErr.status, ...rendered, headers: { 'x-acs-request-id': requestId, ...apiErr.headers }, requestId,
    action: call.action?.name ?? call.auth?.action, code: apiErr.code, accessKeyId: call.auth?.key.accessKeyId,
  };
}

/**
 * Anything that is not a catalogue error. A store that is busy (another writer holds the lock
 * past the busy timeout) is a temporary condition the client may retry: ServiceUnavailable.
 * Everything else is logged with the RequestId and answered InternalError, without internals.
 */
function internal(err: unknown, requestId: string, logger: Logger): ApiError {
  if (err instanceof StoreBusy) {
    logger.warn({ err, requestId }, 'store busy');
    return new ApiError('ServiceUnavailable');
  }
  logger.error({ err, requestId }, 'unexpected error while handling a request');
  return new ApiError('InternalError');
}
