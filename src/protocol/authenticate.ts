import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../spec/errors.js';
import { parseUtcTimestamp } from './encoding.js';
import type { ParsedParams, WireRequest } from './request.js';
import { v1Sign, v1StringToSign } from './signature-v1.js';
import { parseV3Authorization, V3_ALGORITHMS, v3Hash, v3Sign, v3StringToSign, type V3Algorithm } from './signature-v3.js';

/** What authentication needs from identity and the store; kept narrow so tests can see it whole. */
export interface AuthDeps {
  findKey(accessKeyId: string): Promise<KeyRecord | undefined>;
  /** Records a nonce; false when that key already used it inside the window. */
  useNonce(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean>;
  now(): number;
  /** Allowed clock skew either way, ms (Alibaba: 15 min). */
  skewMs: number;
}

export interface KeyRecord {
  accessKeyId: string;
  secret: string;
  active: boolean;
  accountId: number;
  /** RAM user name; undefined for the account's root keys. */
  userName?: string;
}

export interface Authenticated {
  scheme: 'v1' | 'v3';
  key: KeyRecord;
  action: string | undefined;
  version: string | undefined;
  format: string | undefined;
}

/** Names that belong to the protocol, not to any action. */
export const COMMON_PARAMS = new Set([
  'Action', 'Version', 'Format', 'AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion',
  'SignatureNonce', 'SignatureType', 'Timestamp', 'SecurityToken', 'RegionId', 'OwnerId',
  'ResourceOwnerAccount', 'ResourceOwnerId', 'OwnerAccount',
]);

/**
 * Verify who sent the request (V1 or V3 signature, timestamp, nonce) before anything else looks
 * at it. Throws the documented gateway errors; never lets an unsigned request through.
 */
export async function authenticate(req: WireRequest, params: ParsedParams, deps: AuthDeps): Promise<Authenticated> {
  const authorization = header(req, 'authorization');
  const hasV1 = params.all.has('Signature');
  if (authorization !== undefined && hasV1) {
    throw new ApiError('IncompleteSignature', { detail: 'A request carries either an Authorization header (ACS3) or a Signature parameter (RPC 1.0), not both.' });
  }
  if (authorization !== undefined) return authenticateV3(req, params, authorization, deps);
  if (hasV1 || params.all.has('AccessKeyId')) return authenticateV1(req, params, deps);
  throw new ApiError('MissingParameter', { vars: { Name: 'Signature' } });
}

async function authenticateV1(req: WireRequest, params: ParsedParams, deps: AuthDeps): Promise<Authenticated> {
  const p = params.all;
  for (const name of ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureNonce', 'Timestamp']) {
    if (!p.get(name)) throw new ApiError('MissingParameter', { vars: { Name: name } });
  }
  if (p.get('SignatureMethod') !== 'HMAC-SHA1') throw new ApiError('InvalidSignatureMethod');
  const version = p.get('SignatureVersion');
  if (version !== undefined && version !== '1.0') throw new ApiError('InvalidParameter', { vars: { Name: 'SignatureVersion' } });
  const timestamp = checkTimestamp(p.get('Timestamp')!, deps);
  const key = await checkKey(p.get('AccessKeyId')!, deps);
  const stringToSign = v1StringToSign(req.method, p);
  if (!safeEqual(v1Sign(stringToSign, key.secret), p.get('Signature')!)) {
    throw new ApiError('SignatureDoesNotMatch', { detail: `server string to sign is:${echo(stringToSign)}` });
  }
  await checkNonce(key, p.get('SignatureNonce')!, timestamp, deps);
  return { scheme: 'v1', key, action: p.get('Action'), version: p.get('Version'), format: p.get('Format') };
}

async function authenticateV3(req: WireRequest, params: ParsedParams, authorization: string, deps: AuthDeps): Promise<Authenticated> {
  const auth = parseV3Authorization(authorization);
  if (!auth) throw new ApiError('IncompleteSignature');
  if (!(auth.algorithm in V3_ALGORITHMS)) throw new ApiError('InvalidSignatureMethod');
  const algorithm = auth.algorithm as V3Algorithm;
  for (const required of ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
    if (!auth.signedHeaders.includes(required)) {
      throw new ApiError('IncompleteSignature', { detail: `SignedHeaders must include ${required}.` });
    }
  }
  // Every x-acs-* header that was sent must be signed, so none can be injected after signing.
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-acs-') && !auth.signedHeaders.includes(name)) {
      throw new ApiError('IncompleteSignature', { detail: `Header ${name} is not signed.` });
    }
  }
  const date = header(req, 'x-acs-date');
  const nonce = header(req, 'x-acs-signature-nonce');
  if (!date) throw new ApiError('MissingParameter', { vars: { Name: 'x-acs-date' } });
  if (!nonce) throw new ApiError('MissingParameter', { vars: { Name: 'x-acs-signature-nonce' } });
  const timestamp = checkTimestamp(date, deps);
  const key = await checkKey(auth.accessKeyId, deps);
  const payloadHash = v3Hash(algorithm, req.body);
  if (header(req, 'x-acs-content-sha256') !== payloadHash) {
    throw new ApiError('SignatureDoesNotMatch', { detail: 'The x-acs-content-sha256 header does not match the body.' });
  }
  const stringToSign = v3StringToSign({
    algorithm, method: req.method, path: params.path || '/', query: params.query, headers: req.headers,
    signedHeaders: auth.signedHeaders, payloadHash,
  });
  if (!safeEqual(v3Sign(algorithm, stringToSign, key.secret), auth.signature)) {
    throw new ApiError('SignatureDoesNotMatch', { detail: `server string to sign is:${echo(stringToSign)}` });
  }
  await checkNonce(key, nonce, timestamp, deps);
  return {
    scheme: 'v3', key, action: header(req, 'x-acs-action'), version: header(req, 'x-acs-version'),
    format: params.all.get('Format'),
  };
}

function header(req: WireRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function checkTimestamp(value: string, deps: AuthDeps): number {
  const ms = parseUtcTimestamp(value);
  if (ms === undefined) throw new ApiError('InvalidTimeStamp.Format');
  if (Math.abs(deps.now() - ms) > deps.skewMs) throw new ApiError('InvalidTimeStamp.Expired');
  return ms;
}

async function checkKey(accessKeyId: string, deps: AuthDeps): Promise<KeyRecord> {
  const key = await deps.findKey(accessKeyId);
  if (!key) throw new ApiError('InvalidAccessKeyId.NotFound');
  if (!key.active) throw new ApiError('InvalidAccessKeyId.Inactive');
  return key;
}

/** Checked after the signature so nobody can burn another client's nonces. */
async function checkNonce(key: KeyRecord, nonce: string, timestamp: number, deps: AuthDeps): Promise<void> {
  // A nonce only needs remembering while its timestamp would still be accepted.
  if (!(await deps.useNonce(key.accessKeyId, nonce, timestamp + deps.skewMs))) throw new ApiError('SignatureNonceUsed');
}

/** The string to sign as the error echoes it: enough to debug a client, never the whole of a huge request. */
const ECHO_MAX = 2048;
function echo(stringToSign: string): string {
  return stringToSign.length <= ECHO_MAX ? stringToSign : `${stringToSign.slice(0, ECHO_MAX)}… (${stringToSign.length} characters)`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
