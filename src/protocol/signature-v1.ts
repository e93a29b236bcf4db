import { createHmac } from 'node:crypto';
import { canonicalQuery, percentEncode } from './encoding.js';

/**
 * Legacy RPC signature, SignatureVersion 1.0 / HMAC-SHA1 (docs/protocol.md §5.1): what pop-core and the
 * cdn SDK with `signatureAlgorithm:'v2'` send. Every parameter but `Signature` is signed, from the
 * query and the form body alike.
 */
export function v1StringToSign(method: string, params: Map<string, string>): string {
  const signed = [...params].filter(([k]) => k !== 'Signature');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQuery(signed))}`;
}

export function v1Sign(stringToSign: string, secret: string): string {
  return createHmac('sha1', secret + '&').update(stringToSign, 'utf8').digest('base64');
}
