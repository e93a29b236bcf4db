// The console's only way to the server: refreshd's own RPC API on `/` of this origin, every call
// signed in the browser with the legacy RPC scheme (SignatureVersion 1.0, HMAC-SHA1), exactly as
// src/protocol/signature-v1.ts checks it. The AccessKey secret never leaves the tab: it is kept in
// sessionStorage and used only as the HMAC key.

const SESSION_KEY = 'refreshd.console.credentials';

/** The two products refreshd speaks, with the action names and list shapes that differ. */
export const PRODUCTS = {
  cdn: {
    label: 'CDN',
    version: '2018-05-10',
    refresh: 'RefreshObjectCaches',
    refreshId: 'RefreshTaskId',
    preload: 'PushObjectCache',
    preloadId: 'PushTaskId',
    // CDN only: purge by cache tag, and a preload's per-URL detail.
    tagRefresh: 'RefreshObjectCacheByCacheTag',
    preloadDetail: 'DescribePreloadDetailById',
    list: 'DescribeRefreshTasks',
    listElement: 'CDNTask',
    maxPageSize: 100,
    quota: 'DescribeRefreshQuota',
    quotas: [
      ['Url', 'URL refresh'],
      ['Dir', 'Directory refresh'],
      ['Regex', 'Regex refresh'],
      ['IgnoreParams', 'Ignore-params refresh'],
      ['Preload', 'Preload'],
    ],
  },
  vod: {
    label: 'VOD',
    version: '2017-03-21',
    refresh: 'RefreshVodObjectCaches',
    refreshId: 'RefreshTaskId',
    preload: 'PreloadVodObjectCaches',
    preloadId: 'PreloadTaskId',
    list: 'DescribeVodRefreshTasks',
    listElement: 'Task',
    maxPageSize: 50,
    quota: 'DescribeVodRefreshQuota',
    quotas: [
      ['Url', 'URL refresh'],
      ['Dir', 'Directory refresh'],
      ['Preload', 'Preload'],
    ],
  },
};

/** An answer the API refused, with Alibaba's error code beside the message. */
export class ApiError extends Error {
  constructor(code, message, { status = 0, requestId = '' } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

// --- the signature (docs/protocol.md §5.1) ---

/** Alibaba's percentEncode: encodeURIComponent plus `!'()*`; `~` stays literal. */
export function percentEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Sorted `k=v&k=v`, both sides percent-encoded, keys compared by UTF-16 code unit. */
export function canonicalQuery(entries) {
  const pairs = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

export function stringToSign(method, params) {
  const signed = [...params].filter(([k]) => k !== 'Signature');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQuery(signed))}`;
}

/** Base64 HMAC-SHA1 of the string to sign, keyed with `<secret>&`. */
export async function sign(text, secret) {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret + '&'), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(text)));
  let bin = '';
  for (const b of mac) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** `yyyy-MM-ddTHH:mm:ssZ`, the only timestamp form the API takes. */
export function utcSeconds(date = new Date()) {
  return date.toISOString().slice(0, 19) + 'Z';
}

/** WebCrypto exists only in secure contexts (https, or http on localhost). */
export function cryptoAvailable() {
  return Boolean(globalThis.crypto && crypto.subtle && typeof crypto.randomUUID === 'function');
}

// --- the session ---

export function loadCredentials() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (saved && typeof saved.id === 'string' && typeof saved.secret === 'string') {
      return { id: saved.id, secret: saved.secret, product: PRODUCTS[saved.product] ? saved.product : 'cdn' };
    }
  } catch {
    /* a damaged entry counts as signed out */
  }
  return null;
}

export function saveCredentials(creds) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ id: creds.id, secret: creds.secret, product: creds.product }));
}

export function clearCredentials() {
  sessionStorage.removeItem(SESSION_KEY);
}

// --- calls ---

/**
 * Call one action. Reads go as GET with everything in the query; submits as POST with a form
 * body (a thousand URLs do not fit a request line). Resolves to the JSON answer or throws ApiError.
 */
export async function call(creds, action, params = {}, { method = 'GET' } = {}) {
  const product = PRODUCTS[creds.product] ?? PRODUCTS.cdn;
  const p = new Map([
    ['Action', action],
    ['Version', product.version],
    ['Format', 'JSON'],
    ['AccessKeyId', creds.id],
    ['SignatureMethod', 'HMAC-SHA1'],
    ['SignatureVersion', '1.0'],
    ['SignatureNonce', crypto.randomUUID()],
    ['Timestamp', utcSeconds()],
  ]);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  p.set('Signature', await sign(stringToSign(method, p), creds.secret));
  const encoded = canonicalQuery(p);

  let res;
  try {
    res = method === 'GET'
      ? await fetch(`/?${encoded}`, { cache: 'no-store', credentials: 'omit' })
      : await fetch('/', {
        method: 'POST',
        cache: 'no-store',
        credentials: 'omit',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: encoded,
      });
  } catch {
    throw new ApiError('NetworkError', 'refreshd could not be reached; check that the server is running and try again.');
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* handled below */
  }
  if (!body || typeof body !== 'object') {
    throw new ApiError(`HTTP${res.status}`, `refreshd answered HTTP ${res.status} with a body that is not JSON.`, { status: res.status });
  }
  if (!res.ok || body.Code) {
    throw new ApiError(body.Code ?? `HTTP${res.status}`, body.Message ?? `The request failed with HTTP ${res.status}.`, {
      status: res.status,
      requestId: body.RequestId ?? res.headers.get('x-acs-request-id') ?? '',
    });
  }
  return body;
}

/** The product profile of the signed-in session. */
export function productOf(creds) {
  return PRODUCTS[creds.product] ?? PRODUCTS.cdn;
}
