import { createHash, createHmac } from 'node:crypto';
import { canonicalQuery } from './encoding.js';

/**
 * ACS3 signatures (docs/protocol.md §5.2, §5.3): `ACS3-HMAC-SHA256`, the cdn SDK's default, and
 * `ACS3-HMAC-SM3`. Form-body parameters are not in the canonical query: only the body's hash,
 * carried in x-acs-content-sha256, is signed.
 */
export const V3_ALGORITHMS = {
  'ACS3-HMAC-SHA256': 'sha256',
  'ACS3-HMAC-SM3': 'sm3',
} as const;
export type V3Algorithm = keyof typeof V3_ALGORITHMS;

export interface V3Authorization {
  algorithm: string;
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parse `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`; undefined when incomplete. */
export function parseV3Authorization(header: string): V3Authorization | undefined {
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const algorithm = header.slice(0, space);
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signedHeaders || !signature) return undefined;
  return { algorithm, accessKeyId, signedHeaders: signedHeaders.split(';'), signature };
}

export function v3Hash(algorithm: V3Algorithm, data: Buffer | string): string {
  return createHash(V3_ALGORITHMS[algorithm]).update(data).digest('hex');
}

export interface V3Input {
  algorithm: V3Algorithm;
  method: string;
  path: string;
  query: Map<string, string>;
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: string[];
  payloadHash: string;
}

export function v3CanonicalRequest(input: V3Input): string {
  const canonicalHeaders = input.signedHeaders
    .map((name) => {
      const value = input.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim()}\n`;
    })
    .join('');
  return [
    input.method.toUpperCase(),
    input.path,
    canonicalQuery(input.query),
    canonicalHeaders,
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

export function v3StringToSign(input: V3Input): string {
  return `${input.algorithm}\n${v3Hash(input.algorithm, v3CanonicalRequest(input))}`;
}

export function v3Sign(algorithm: V3Algorithm, stringToSign: string, secret: string): string {
  return createHmac(V3_ALGORITHMS[algorithm], secret).update(stringToSign, 'utf8').digest('hex');
}
