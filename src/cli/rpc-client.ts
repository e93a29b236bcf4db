import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { canonicalQuery, formatUtc } from '../protocol/encoding.js';
import { v1Sign, v1StringToSign } from '../protocol/signature-v1.js';

/**
 * The CLI's own API client: signs like any Alibaba RPC client (HMAC-SHA1, SignatureVersion 1.0)
 * and calls a refreshd — or Alibaba Cloud itself — at the profile's endpoint.
 */
export interface Profile {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
}

export const PROFILE_FILE = join(homedir(), '.refreshd', 'config');

/**
 * `--endpoint` over env (REFRESHD_ENDPOINT, REFRESHD_ACCESS_KEY_ID, REFRESHD_ACCESS_KEY_SECRET)
 * over the profile file (REFRESHD_PROFILE, default ~/.refreshd/config; JSON).
 */
export function loadProfile(env = process.env, file = env.REFRESHD_PROFILE || PROFILE_FILE, endpointFlag?: string): Profile {
  let fromFile: Partial<Profile> = {};
  if (existsSync(file)) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Partial<Profile>;
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
  }
  const profile = {
    endpoint: endpointFlag ?? (env.REFRESHD_ENDPOINT || undefined) ?? fromFile.endpoint ?? '127.0.0.1:7070',
    accessKeyId: env.REFRESHD_ACCESS_KEY_ID ?? fromFile.accessKeyId,
    accessKeySecret: env.REFRESHD_ACCESS_KEY_SECRET ?? fromFile.accessKeySecret,
  };
  if (!profile.accessKeyId || !profile.accessKeySecret) {
    throw new Error(`no AccessKey: set REFRESHD_ACCESS_KEY_ID and REFRESHD_ACCESS_KEY_SECRET, or write ${file} as {"endpoint", "accessKeyId", "accessKeySecret"}`);
  }
  return { ...profile, endpoint: endpointUrl(profile.endpoint) } as Profile;
}

/**
 * One endpoint form everywhere: `host:port` (as Alibaba's SDKs take it) or a URL. A bare
 * host:port means http://, as the SDK's `protocol: 'http'` does.
 */
export function endpointUrl(value: string): string {
  const v = value.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`endpoint "${value}" is neither host:port nor a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`endpoint "${value}": only http:// and https:// are served`);
  return url.replace(/\/+$/, '');
}

/** An API error, worded as a sentence with Alibaba's code beside it. */
export class RpcError extends Error {
  constructor(readonly code: string, message: string, readonly status: number, readonly requestId?: string) {
    super(`${message.replace(/\s+$/, '')} (${code})`);
  }
}

export const VERSIONS = { cdn: '2018-05-10', vod: '2017-03-21' } as const;

export class RpcClient {
  constructor(private readonly profile: Profile, private readonly version: string = VERSIONS.cdn) {}

  async call<T = Record<string, any>>(action: string, params: Record<string, string | number | boolean | undefined>, method: 'GET' | 'POST' = 'GET'): Promise<T> {
    const p = new Map<string, string>([
      ['Action', action], ['Version', this.version], ['Format', 'JSON'], ['AccessKeyId', this.profile.accessKeyId],
      ['SignatureMethod', 'HMAC-SHA1'], ['SignatureVersion', '1.0'], ['SignatureNonce', randomUUID()], ['Timestamp', formatUtc(Date.now())],
    ]);
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
    p.set('Signature', v1Sign(v1StringToSign(method, p), this.profile.accessKeySecret));
    const encoded = canonicalQuery(p);
    let res;
    try {
      res = method === 'GET'
        ? await request(`${this.profile.endpoint}/?${encoded}`, { headersTimeout: 30_000 })
        : await request(`${this.profile.endpoint}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: encoded, headersTimeout: 30_000 });
    } catch (err) {
      throw new Error(`cannot reach ${this.profile.endpoint}: ${(err as Error).message}`);
    }
    const text = await res.body.text();
    let json: Record<string, any>;
    try {
      json = JSON.parse(text) as Record<string, any>;
    } catch {
      throw new Error(`${this.profile.endpoint} answered HTTP ${res.statusCode} without JSON: ${text.slice(0, 200)}`);
    }
    if (res.statusCode >= 400 || (json.Code && !['200', 'OK', 'Success'].includes(String(json.Code)))) {
      throw new RpcError(String(json.Code ?? `HTTP${res.statusCode}`), String(json.Message ?? 'request failed'), res.statusCode, json.RequestId);
    }
    return json as T;
  }
}
