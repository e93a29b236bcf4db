import { preloadThrough } from './preload-through.js';
import { diagnosePurge, diagnoseProbe } from './diagnose.js';
import { cannotPurgeTags, type EdgeDriver, type EdgeJob, type EdgeNode, type Outcome, type ProbeState } from './driver.js';
import { networkError, type EdgeHttpClient } from './http-client.js';

/**
 * Driver for nginx with Debian's ngx_cache_purge 2.3 (docs/caches.md). What that module can
 * do decides what this driver can do:
 *
 * - One URL: `GET <purgePrefix><path>` against a separate purge location whose key is
 *   `$host$purge_target`. The module's documented same-location `PURGE` method segfaults the
 *   worker on 2.3, so the node must be configured as `refreshd edge config nginx` prints.
 * - Directory, Regex, IgnoreParams: impossible (2.3 has no wildcard; `*` is taken literally). They
 *   fail permanently with the reason instead of reporting a purge that did not happen.
 * - Preload: a plain GET through the node, which stores the response.
 * - Probe: `X-Cache-Probe: 1` routes a miss to a 404 sink that is never stored (`proxy_no_cache`).
 *
 * node.options: `purgePrefix` (default `/__purge`), the location the purge requests go to.
 */
export const NGINX_NO_PATTERN_PURGE = 'nginx cache_purge 2.3 has no prefix/regex purge';

export class NginxDriver implements EdgeDriver {
  constructor(private readonly http: EdgeHttpClient) {}

  async execute(node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
    if (job.kind === 'preload') return preloadThrough(this.http, node, job, signal);
    if (job.objectType === 'cachetag') return cannotPurgeTags(node, 'nginx keys its cache on URLs alone and keeps no tags');
    if (job.objectType !== 'file') {
      return {
        kind: 'permanent',
        error: `${NGINX_NO_PATTERN_PURGE}: cannot refresh ${job.objectType} ${job.objectPath} on ${node.name}`,
        description: 'Internal Error',
      };
    }
    const prefix = purgePrefix(node);
    if (prefix === null) {
      return { kind: 'permanent', error: `node ${node.name}: options.purgePrefix must be a path starting with /`, description: 'Internal Error' };
    }
    try {
      const res = await this.http.send(node.address, {
        method: 'GET',
        path: prefix + job.path,
        headers: { host: job.host },
        signal,
      });
      // A purge location never adds the caching location's X-Cache header, and the module's 200
      // says so in its body: anything else means the request went to the origin (wrong prefix),
      // which must not be mistaken for a purge.
      const viaCache = res.headers['x-cache'] !== undefined;
      // 200: removed; 404: not in the cache (already gone). Both leave the node without the object.
      if (res.status === 200 && !viaCache && res.text.includes('Successful purge')) return { kind: 'ok', detail: 'purged' };
      if (res.status === 404 && !viaCache) return { kind: 'ok', detail: 'not cached' };
      if (res.status >= 500) return { kind: 'retryable', error: `purge answered ${res.status} on ${node.name}` };
      // 403 (allow list) or a location that is not a purge location: a node misconfiguration.
      return { kind: 'permanent', error: diagnosePurge('nginx', node, `purge ${prefix}/`, res), description: 'Internal Error' };
    } catch (err) {
      return { kind: 'retryable', error: `purge on ${node.name}: ${networkError(err)}` };
    }
  }

  async probe(node: EdgeNode, host: string, path: string, signal?: AbortSignal): Promise<ProbeState> {
    const res = await this.http.send(node.address, { method: 'GET', path, headers: { host, 'x-cache-probe': '1' }, signal });
    // Every answer of the caching location carries X-Cache; without it nothing here is a cache's word.
    if (res.headers['x-cache'] === undefined) throw new Error(diagnoseProbe('nginx', node, res));
    const cacheStatus = String(res.headers['x-cache'] ?? '').toUpperCase();
    if (res.status === 404) return cacheStatus === 'EXPIRED' ? 'stale' : 'miss';
    if (cacheStatus === 'STALE' || cacheStatus === 'UPDATING') return 'stale';
    if (res.status >= 200 && res.status < 400 && cacheStatus === 'HIT') return 'hit';
    throw new Error(diagnoseProbe('nginx', node, res));
  }
}

function purgePrefix(node: EdgeNode): string | null {
  const p = node.options.purgePrefix;
  if (p === undefined) return '/__purge';
  return typeof p === 'string' && p.startsWith('/') ? p.replace(/\/+$/, '') : null;
}
