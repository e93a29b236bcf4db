import { createRequire } from 'node:module';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET } from './server.js';

/**
 * The official, unmodified Alibaba clients, pointed at a test server (docs/protocol.md §1).
 * CommonJS packages, loaded through require so their default exports resolve as in user code.
 */
const require = createRequire(import.meta.url);
const CdnModule = require('@alicloud/cdn20180510');
const OpenApi = require('@alicloud/openapi-core');
const RPCClient = require('@alicloud/pop-core');

export const Cdn = CdnModule;
export type SignatureFlavour = 'v3' | 'v2' | 'sm3';

export function cdnClient(hostPort: string, flavour: SignatureFlavour = 'v3', creds = { id: ACCESS_KEY_ID, secret: ACCESS_KEY_SECRET }) {
  const config = new OpenApi.$OpenApiUtil.Config({
    accessKeyId: creds.id,
    accessKeySecret: creds.secret,
    endpoint: hostPort,
    protocol: 'http',
    readTimeout: 10_000,
    connectTimeout: 10_000,
    ...(flavour === 'v2' ? { signatureAlgorithm: 'v2' } : flavour === 'sm3' ? { signatureAlgorithm: 'ACS3-HMAC-SM3' } : {}),
  });
  return new CdnModule.default(config);
}

export function popClient(url: string, apiVersion = '2018-05-10', creds = { id: ACCESS_KEY_ID, secret: ACCESS_KEY_SECRET }) {
  return new RPCClient({ accessKeyId: creds.id, accessKeySecret: creds.secret, endpoint: url, apiVersion });
}

/** Call through pop-core by GET (its default) or POST (everything in the form body). */
export function popRequest(client: { request: (a: string, p: object, o: object) => Promise<unknown> }, action: string, params: object, method: 'GET' | 'POST' = 'GET') {
  return client.request(action, params, { method, timeout: 10_000 }) as Promise<Record<string, any>>;
}
