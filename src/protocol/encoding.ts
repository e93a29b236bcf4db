/**
 * Wire encoding shared by both signature schemes (docs/protocol.md §3, §5.1).
 * Parameters are decoded by hand, never via URLSearchParams' canonical form: the clients encode
 * `*()!'` differently, and a signature must be checked against the decoded values re-encoded.
 */

export class MalformedEncoding extends Error {
  /** The parameter at fault, when there is one (a duplicate). */
  constructor(message: string, readonly parameter?: string) {
    super(message);
  }
}

/**
 * Decode `application/x-www-form-urlencoded` text: split on `&`, once on `=`, `+` → space, UTF-8
 * %-decode. A name given twice is refused rather than one value silently winning: the signature
 * covers both, and which one an action then reads would be a guess. At most `maxParams` names in
 * `into` altogether, counted before anything is decoded.
 */
export function parseFormEncoded(text: string, into: Map<string, string> = new Map(), maxParams = Infinity): Map<string, string> {
  // Walked with indexOf rather than split('&'): a hostile body of a million `&` never becomes a
  // million strings, and the count stops the walk as soon as it is over.
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      if (into.size >= maxParams) throw new MalformedEncoding(`more than ${maxParams} parameters`);
      const part = text.slice(start, end);
      const eq = part.indexOf('=');
      const key = decodeComponent(eq < 0 ? part : part.slice(0, eq));
      if (into.has(key)) throw new MalformedEncoding(`parameter ${JSON.stringify(key.slice(0, 64))} is given more than once`, key);
      into.set(key, decodeComponent(eq < 0 ? '' : part.slice(eq + 1)));
    }
    start = end + 1;
  }
  return into;
}

function decodeComponent(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    throw new MalformedEncoding(`malformed percent-encoding in ${JSON.stringify(s.slice(0, 64))}`);
  }
}

/** Alibaba's "percentEncode": RFC 3986 — encodeURIComponent plus `!'()*`; `~` stays literal. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Sorted `k=v&k=v` with both sides percent-encoded; keys compared by code unit (uppercase first). */
export function canonicalQuery(params: Iterable<[string, string]>): string {
  const pairs = [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

/** `yyyy-MM-ddTHH:mm:ssZ` (UTC, no fraction), the only timestamp form the clients send. */
export const ISO_SECONDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Parse an Alibaba UTC timestamp to epoch ms, or undefined when it is not well formed. */
export function parseUtcTimestamp(s: string, allowMinutes = false): number | undefined {
  let m = ISO_SECONDS.exec(s);
  let parts: string[] | undefined = m ? m.slice(1) : undefined;
  if (!parts && allowMinutes) {
    const mm = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})Z$/.exec(s);
    if (mm) parts = [...mm.slice(1), '00'];
  }
  if (!parts) return undefined;
  const [y, mo, d, h, mi, se] = parts.map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  // Reject rolled-over dates such as 2024-02-30 or 25:00:00.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== se) {
    return undefined;
  }
  return ms;
}

let lastMs = NaN;
let lastText = '';

/** Format epoch ms as `yyyy-MM-ddTHH:mm:ssZ`. (Rows of one task share a time: remember the last.) */
export function formatUtc(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString().slice(0, 19) + 'Z';
    lastMs = ms;
  }
  return lastText;
}
