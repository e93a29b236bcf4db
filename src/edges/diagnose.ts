import type { EdgeNode } from './driver.js';
import type { EdgeResponse } from './http-client.js';

/**
 * One sentence per misconfiguration, naming the cause and the fix: shared by the drivers (a
 * task's per-node error) and `refreshd node check`. The commonest cause is a cache running its
 * distribution's default configuration, which passes PURGE and probes to the origin: the answer
 * then lacks what the cache itself adds (Varnish's X-Varnish, Traffic Server's Via).
 */
export type CacheKind = 'varnish' | 'nginx' | 'ats' | 'squid';

const load = (kind: CacheKind) => `load \`refreshd edge config ${kind}\``;

/** Did the cache software itself answer (rather than pass the request to the origin)? */
export function answeredByCache(kind: CacheKind, res: EdgeResponse): boolean {
  const via = String(res.headers.via ?? '');
  if (kind === 'varnish') return res.headers['x-varnish'] !== undefined;
  if (kind === 'ats') return /ApacheTrafficServer|traffic_server/i.test(via) || /^ATS/i.test(String(res.headers.server ?? '')) || res.text.includes('on Accelerator');
  if (kind === 'squid') return /squid/i.test(via) || /squid/i.test(String(res.headers.server ?? '')) || res.headers['x-squid-error'] !== undefined;
  return true;
}

const evidence: Record<CacheKind, string> = {
  varnish: 'no X-Varnish',
  ats: 'no Via from Traffic Server',
  squid: 'no Via from Squid',
  nginx: 'it carries the caching location\'s X-Cache',
};

/** Why a purge (or ban, xkey purge) got `res` instead of the answer the driver expects. */
export function diagnosePurge(kind: CacheKind, node: Pick<EdgeNode, 'name'>, method: string, res: EdgeResponse, reason = ''): string {
  const status = `${res.status}${reason ? ` ${reason}` : ''}`;
  const fromCache = kind === 'nginx' ? res.headers['x-cache'] === undefined : answeredByCache(kind, res);
  if (!fromCache) return `${method} reached the origin, not the cache (the answer ${status} has ${evidence[kind]}): ${load(kind)} on ${node.name}`;
  if (res.status === 403 || res.status === 405) {
    return `${node.name} refused ${method} from this host (${status}): ${load(kind)} --purger <this host's address> and reload it`;
  }
  if (kind === 'ats' && res.text.includes('Not Found on Accelerator')) {
    return `${node.name} has no remap rule for this domain (${status}): ${load(kind)} --domain <the domain> and reload it`;
  }
  return `${node.name} answered ${method} with ${status}, not as refreshd's configuration does: ${load(kind)} on it`;
}

/** Why a probe got `res`, which is neither hit, stale nor miss as the configuration answers them. */
export function diagnoseProbe(kind: CacheKind, node: Pick<EdgeNode, 'name'>, res: EdgeResponse): string {
  const status = String(res.status);
  if (kind !== 'nginx' && !answeredByCache(kind, res)) {
    return `the probe reached the origin, not the cache (the answer ${status} has ${evidence[kind]}): ${load(kind)} on ${node.name}`;
  }
  if (kind === 'ats' && res.text.includes('Not Found on Accelerator')) {
    return `${node.name} has no remap rule for this domain (probe answered ${status}): ${load(kind)} --domain <the domain> and reload it`;
  }
  const header = kind === 'ats' ? 'X-Cache from xdebug' : 'X-Cache';
  return `the probe was not answered as refreshd's configuration answers it (${status}, ${res.headers['x-cache'] === undefined ? `no ${header}` : `X-Cache: ${String(res.headers['x-cache'])}`}): ${load(kind)} on ${node.name}`;
}
