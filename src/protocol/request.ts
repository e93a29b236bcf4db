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

/** Parameters decoded from the URL query and the form body (docs/protocol.md §2–3). */
export interface ParsedParams {
  path: string;
  query: Map<string, string>;
  /** Query and form body merged; the body wins on a clash, as it is what the client meant to send. */
  all: Map<string, string>;
}

export function isFormBody(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

export function parseParams(req: WireRequest): ParsedParams {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  try {
    const query = parseFormEncoded(q < 0 ? '' : req.url.slice(q + 1));
    const all = new Map(query);
    if (req.body.length > 0 && isFormBody(req.headers)) parseFormEncoded(req.body.toString('utf8'), all);
    return { path, query, all };
  } catch (err) {
    if (err instanceof MalformedEncoding) throw new ApiError('InvalidParameter', { vars: { Name: 'QueryString' }, detail: err.message });
    throw err;
  }
}
