import { isIP } from 'node:net';
import { atsConfig } from './ats-conf.js';
import { nginxConfig } from './nginx-conf.js';
import { squidConfig } from './squid-conf.js';
import { varnishVcl } from './varnish-vcl.js';

/**
 * `refreshd edge config <cache>`: the one source of each cache's configuration. The drivers
 * (src/edges/*.ts) rely on exactly what these generators print, the integration tests load
 * their output into the real servers, and docs/caches.md explains it.
 */
export const EDGE_KINDS = ['varnish', 'nginx', 'ats', 'squid'] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];

export interface HostPort {
  host: string;
  port: number;
}

export interface EdgeConfigOptions {
  /** Addresses or CIDRs allowed to purge, ban and probe: where refreshd's workers run. */
  purgers: string[];
  /** The origin the cache fetches from. */
  backend: HostPort;
  /** Where the cache listens for clients (nginx, ats, squid; Varnish takes it on its command line). */
  listen: HostPort;
  /** nginx: proxy_cache_path. ats: where the regex_revalidate rules and state files live. */
  dir: string;
  /** ats: the domains to map to the backend (one remap rule each). */
  domains: string[];
  /**
   * varnish: origin response headers whose values (space- or comma-separated) are cache tags, as
   * well as Cache-Tag and Surrogate-Key, which always are.
   */
  tagHeaders: string[];
  /** nginx: the local sink a probe's miss is routed to, so it is never fetched or stored. */
  probeSink: HostPort;
}

export const DEFAULT_PURGERS = ['127.0.0.1', '::1'];

export function defaults(kind: EdgeKind): EdgeConfigOptions {
  return {
    purgers: DEFAULT_PURGERS,
    backend: { host: '127.0.0.1', port: 8080 },
    listen: { host: '0.0.0.0', port: kind === 'squid' ? 3129 : kind === 'ats' ? 8080 : 80 },
    dir: kind === 'nginx' ? '/var/cache/nginx/refreshd' : '/var/lib/trafficserver/refreshd',
    domains: [],
    tagHeaders: [],
    probeSink: { host: '127.0.0.1', port: 6099 },
  };
}

/** The configuration text for one cache. Several files (ats) are separated by `# ==> NAME <==` lines. */
export function renderEdgeConfig(kind: EdgeKind, opts: EdgeConfigOptions): string {
  for (const p of opts.purgers) parseCidr(p);
  switch (kind) {
    case 'varnish':
      return varnishVcl(opts);
    case 'nginx':
      return nginxConfig(opts);
    case 'ats':
      return atsConfig(opts);
    case 'squid':
      return squidConfig(opts);
  }
}

/** An address or CIDR as [address, prefix length or null]; throws with the reason otherwise. */
export function parseCidr(value: string): [string, number | null] {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(value.trim());
  const family = m ? isIP(m[1]) : 0;
  const bits = m?.[2] === undefined ? null : Number(m[2]);
  if (!m || family === 0 || (bits !== null && bits > (family === 4 ? 32 : 128))) {
    throw new Error(`--purger wants an IP address or CIDR (10.0.0.0/8, ::1), got "${value}"`);
  }
  return [m[1], bits];
}

export function parseHostPort(value: string, flag: string): HostPort {
  const m = /^(\[[0-9a-f:]+\]|[\w.-]+):(\d{1,5})$/i.exec(value);
  if (!m || Number(m[2]) > 65535) throw new Error(`${flag} wants HOST:PORT, got "${value}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export const hostPort = (h: HostPort) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`);

/** The files of a multi-file configuration (ats), by name, in the order printed. */
export function splitConfigFiles(text: string): Map<string, string> {
  const files = new Map<string, string>();
  let name: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^# ==> (\S+) <==$/.exec(line);
    if (m) files.set((name = m[1]), '');
    else if (name !== null) files.set(name, files.get(name)! + line + '\n');
  }
  for (const [n, body] of files) files.set(n, body.replace(/\n+$/, '\n'));
  return files;
}
