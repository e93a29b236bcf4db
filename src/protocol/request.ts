import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../spec/errors.js';
import { MalformedEncoding, parseFormEncoded } from './encoding.js';

/** One HTTP request as refreshd receives it, before any interpretation. */
export interface WireRequest {
  method: string;
  /** Path and query exactly as on the request line. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Raw body bytes (hashed by V3, parsed when form-encoded). */
  body: Buffer;
  sourceIp: string;
}

/** Parameters decoded from the URL query and the form body. */
export interface ParsedParams {
  path: string;
  query: Map<string, string>;
  /** Query and form body merged; a name in both (or twice in either) is refused. */
  all: Map<string, string>;
}

export function isFormBody(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** At most this many parameters in one request (query and body): a real call has about 20. */
export const MAX_PARAMS = 100;

export function parseParams(req: WireRequest, maxParams = MAX_PARAMS): ParsedParams {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  try {
    const query = parseFormEncoded(q < 0 ? '' : req.url.slice(q + 1), new Map(), maxParams);
    const all = new Map(query);
    if (req.body.length > 0 && isFormBody(req.headers)) parseFormEncoded(req.body.toString('utf8'), all, maxParams);
    return { path, query, all };
  } catch (err) {
    if (err instanceof MalformedEncoding) throw new ApiError('InvalidParameter', { vars: { Name: err.parameter ?? 'QueryString' }, detail: err.message });
    throw err;
  }
}
