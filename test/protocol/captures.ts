/**
 * Real client traffic (docs/protocol.md §5.4), trimmed into test/fixtures/signature-*.json by
 * test/fixtures/trim-captures.mjs. Helpers here turn a capture back into the WireRequest the
 * server would have built, and say which signature scheme it carries.
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { parseUtcTimestamp } from '../../src/protocol/encoding.js';
import { parseParams, type WireRequest } from '../../src/protocol/request.js';
import { v1Sign, v1StringToSign } from '../../src/protocol/signature-v1.js';
import { parseV3Authorization, V3_ALGORITHMS, v3Hash, v3Sign, v3StringToSign, type V3Algorithm } from '../../src/protocol/signature-v3.js';

export interface Capture {
  seq: number;
  label: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  bodySha256: string;
}

export interface CaptureFile {
  source: string;
  port: number;
  accessKeyId: string;
  accessKeySecret: string;
  captures: Capture[];
}

function load(name: string): CaptureFile {
  return JSON.parse(readFileSync(new URL(`../fixtures/signature-${name}.json`, import.meta.url), 'utf8')) as CaptureFile;
}

export const MAIN = load('captures-main');
export const EDGE = load('captures-encoding-edge-cases');
/** Every capture with the file it came from, so a failure names both. */
export const ALL = [...MAIN.captures.map((c) => ({ file: MAIN, c })), ...EDGE.captures.map((c) => ({ file: EDGE, c }))];

export type Kind = 'V1' | 'ACS3-HMAC-SHA256' | 'ACS3-HMAC-SM3' | 'ACS4' | 'none';

/** The scheme a capture was signed with, read from the wire (not from its label). */
export function kindOf(c: Capture): Kind {
  const auth = c.headers.authorization;
  if (auth !== undefined) {
    const algorithm = auth.slice(0, auth.indexOf(' '));
    if (algorithm === 'ACS3-HMAC-SHA256' || algorithm === 'ACS3-HMAC-SM3') return algorithm;
    if (algorithm.startsWith('ACS4-')) return 'ACS4';
    throw new Error(`capture #${c.seq} has an unexpected algorithm ${algorithm}`);
  }
  return parseParams(toWire(c)).all.has('Signature') ? 'V1' : 'none';
}

/** The request as refreshd's HTTP layer hands it over: body as the exact bytes received. */
export function toWire(c: Capture, patch: { url?: string; body?: string; headers?: IncomingHttpHeaders } = {}): WireRequest {
  return {
    method: c.method,
    url: patch.url ?? c.url,
    headers: { ...c.headers, ...patch.headers },
    body: Buffer.from(patch.body ?? c.body, 'utf8'),
    sourceIp: '127.0.0.1',
  };
}

/** The captured signature: Signature param (V1) or the Authorization header's Signature (V3). */
export function capturedSignature(c: Capture): string {
  if (c.headers.authorization !== undefined) return parseV3Authorization(c.headers.authorization)!.signature;
  return parseParams(toWire(c)).all.get('Signature')!;
}

/** When the client signed it: x-acs-date (V3) or the Timestamp param (V1), as epoch ms. */
export function signedAt(c: Capture): number {
  const text = c.headers['x-acs-date'] ?? parseParams(toWire(c)).all.get('Timestamp');
  const ms = text === undefined ? undefined : parseUtcTimestamp(text);
  if (ms === undefined) throw new Error(`capture #${c.seq} has no usable timestamp`);
  return ms;
}

/** Find a capture by exact label, failing loudly if the fixtures changed under the tests. */
export function byLabel(label: string, file: CaptureFile = MAIN): Capture {
  const c = file.captures.find((x) => x.label === label);
  if (!c) throw new Error(`no capture labelled ${JSON.stringify(label)} in ${file.source}`);
  return c;
}

export interface Recomputed {
  kind: 'V1' | 'ACS3-HMAC-SHA256' | 'ACS3-HMAC-SM3';
  stringToSign: string;
  expected: string;
  captured: string;
  /** V3 only: hash of the body as received, and whether it equals x-acs-content-sha256. */
  payloadHash?: string;
  payloadMatches?: boolean;
}

/**
 * Recompute a request's signature with src/protocol's primitives only, the way a verifier must:
 * from the wire request (method, url, headers, body) and a secret. The V3 payload hash is taken
 * from the body itself, never from the header, so a changed body shows up in payloadMatches.
 */
export function recompute(wire: WireRequest, secret: string): Recomputed {
  const params = parseParams(wire);
  const authorization = wire.headers.authorization;
  if (authorization === undefined) {
    const stringToSign = v1StringToSign(wire.method, params.all);
    return { kind: 'V1', stringToSign, expected: v1Sign(stringToSign, secret), captured: params.all.get('Signature') ?? '' };
  }
  const auth = parseV3Authorization(authorization);
  if (!auth || !(auth.algorithm in V3_ALGORITHMS)) throw new Error(`not an ACS3 request: ${authorization}`);
  const algorithm = auth.algorithm as V3Algorithm;
  const payloadHash = v3Hash(algorithm, wire.body);
  const stringToSign = v3StringToSign({
    algorithm, method: wire.method, path: params.path || '/', query: params.query, headers: wire.headers,
    signedHeaders: auth.signedHeaders, payloadHash,
  });
  return {
    kind: algorithm, stringToSign, expected: v3Sign(algorithm, stringToSign, secret), captured: auth.signature,
    payloadHash, payloadMatches: payloadHash === wire.headers['x-acs-content-sha256'],
  };
}

/**
 * Replace (or with undefined, drop) one parameter in raw `k=v&k=v` text, leaving every other
 * byte alone so the rest keeps the client's own encoding. Throws if the parameter is absent,
 * so a negative test can never pass by editing nothing.
 */
export function setParam(text: string, name: string, rawValue: string | undefined): string {
  const parts = text.split('&');
  const i = parts.findIndex((p) => p.split('=')[0] === name);
  if (i < 0) throw new Error(`parameter ${name} not found in ${text}`);
  if (rawValue === undefined) parts.splice(i, 1);
  else parts[i] = `${name}=${rawValue}`;
  return parts.join('&');
}

/** setParam on the query part of a request-line URL. */
export function setQueryParam(url: string, name: string, rawValue: string | undefined): string {
  const q = url.indexOf('?');
  if (q < 0) throw new Error(`no query in ${url}`);
  return `${url.slice(0, q)}?${setParam(url.slice(q + 1), name, rawValue)}`;
}
