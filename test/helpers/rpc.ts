import { randomUUID } from 'node:crypto';
import { canonicalQuery, formatUtc } from '../../src/protocol/encoding.js';
import { v1Sign, v1StringToSign } from '../../src/protocol/signature-v1.js';
import { recordAnswer } from './answered-errors.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET } from './server.js';

export interface RpcOptions {
  version?: string;
  format?: string | null;
  method?: 'GET' | 'POST';
  accessKeyId?: string;
  secret?: string;
  timestamp?: string;
  nonce?: string;
  /** Change the parameters after signing (to prove tampering is caught). */
  tamper?: (p: Map<string, string>) => void;
}

export interface RpcResult {
  status: number;
  contentType: string;
  headers: Headers;
  text: string;
  json: Record<string, any>;
}

/**
 * A plain HTTP client that signs like pop-core (RPC, HMAC-SHA1): what a curl user scripts.
 * GET puts everything in the query; POST everything in a form body.
 */
export async function rpc(baseUrl: string, action: string, params: Record<string, string | number | boolean> = {}, o: RpcOptions = {}): Promise<RpcResult> {
  const p = new Map<string, string>();
  p.set('Action', action);
  p.set('Version', o.version ?? '2018-05-10');
  if (o.format !== null) p.set('Format', o.format ?? 'JSON');
  p.set('AccessKeyId', o.accessKeyId ?? ACCESS_KEY_ID);
  p.set('SignatureMethod', 'HMAC-SHA1');
  p.set('SignatureVersion', '1.0');
  p.set('SignatureNonce', o.nonce ?? randomUUID());
  p.set('Timestamp', o.timestamp ?? formatUtc(Date.now()));
  for (const [k, v] of Object.entries(params)) p.set(k, String(v));
  const method = o.method ?? 'GET';
  p.set('Signature', v1Sign(v1StringToSign(method, p), o.secret ?? ACCESS_KEY_SECRET));
  o.tamper?.(p);
  const encoded = canonicalQuery(p);
  const res =
    method === 'GET'
      ? await fetch(`${baseUrl}/?${encoded}`)
      : await fetch(`${baseUrl}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: encoded });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* XML or empty: callers look at text */
  }
  if (res.status !== 200) recordAnswer(p.get('Version') ?? '', p.get('Action') ?? '', json.Code ?? /<Code>([^<]*)<\/Code>/.exec(text)?.[1]);
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', headers: res.headers, text, json };
}

/** Replace values that differ per run (ids, times) so bodies can be compared with golden files. */
export function normalize(text: string): string {
  return text
    .replace(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/g, '{RequestId}')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/g, '{Time}')
    .replace(/\b17\d{9}\b/g, (id) => `{Task${Number(id) - 17_000_000_000}}`);
}
