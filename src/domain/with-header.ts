import { invalid } from '../spec/errors.js';

/**
 * WithHeader: the extra request headers a preload carries to the cache node, a JSON object of
 * header name → array of values (`{"Accept-Encoding":["gzip"]}`).
 *
 * A caller may add headers that describe what to fetch, never ones that frame the request or
 * steer the connection: those belong to refreshd and the node. Such a header either breaks the
 * request (a GET announcing a body it never sends waits for ever) or is refused by the HTTP
 * client before it is sent, and a refused request once left the client's connection pool to
 * that node wedged for every later preload of every account. So they are refused at submit,
 * with the documented parameter error, and again before any request leaves (EdgeHttpClient).
 */
const HOP_BY_HOP = new Set([
  'host', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'content-length', 'upgrade', 'expect',
]);

/** A header refreshd sets itself or that governs the connection, not the object: never from a caller. */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-');
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** The HTTP field-value rule: visible ASCII, space and tab, and bytes past 0x7f; no control characters. */
export function isSendableHeaderValue(value: string): boolean {
  return !CONTROL.test(value);
}
/** Headers and bytes one preload may add: generous for real use, small next to a request line. */
const MAX_HEADERS = 32;
const MAX_TEXT = 8 * 1024;

/** Parse and check a WithHeader value; throws InvalidParameter (WithHeader) when it is not acceptable. */
export function parseWithHeader(text: string): Record<string, string[]> {
  if (text.length > MAX_TEXT) throw invalid('WithHeader');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('WithHeader');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('WithHeader');
  const entries = Object.entries(parsed);
  if (entries.length > MAX_HEADERS) throw invalid('WithHeader');
  const names = new Set<string>();
  for (const [name, values] of entries) {
    if (!HEADER_NAME.test(name) || isReservedHeader(name) || names.has(name.toLowerCase())) throw invalid('WithHeader');
    names.add(name.toLowerCase());
    if (!Array.isArray(values) || values.length === 0) throw invalid('WithHeader');
    if (!values.every((v) => typeof v === 'string' && isSendableHeaderValue(v))) throw invalid('WithHeader');
  }
  return parsed as Record<string, string[]>;
}
