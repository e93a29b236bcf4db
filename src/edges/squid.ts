import { execFile } from 'node:child_process';
import { diagnosePurge, diagnoseProbe } from './diagnose.js';
import { cannotPurgeTags, type EdgeDriver, type EdgeJob, type EdgeNode, type Outcome, type ProbeState } from './driver.js';
import { networkError, type EdgeHttpClient } from './http-client.js';
import { preloadThrough } from './preload-through.js';

/**
 * Driver for Squid 5.7 as an accelerator (docs/caches.md; config from `refreshd edge config squid`).
 *
 * - File: `PURGE <path>` with the domain's Host (Squid keys on `http://<Host>/<path>`).
 *   Vary: a PURGE *without* the varied header answers 404 and leaves Vary'd objects cached
 *   (docs/caches.md). Measured here: a PURGE carrying any `Accept-Encoding` removes every
 *   Accept-Encoding variant, and also purges objects without Vary. So the driver sends
 *   `Accept-Encoding: gzip` first and, when that finds nothing, a plain PURGE as well. Objects
 *   that vary on other headers (Cookie, User-Agent) are not covered.
 * - Directory, Regex, IgnoreParams: Squid has no pattern purge over HTTP. With
 *   node.options.squidPurge = { config: '/etc/squid/squid.conf', binary?: 'squid-purge' } the
 *   driver must run on the Squid host: it lists matching URLs with `squid-purge -P 0` (it reads
 *   the ufs/aufs/diskd cache_dir files; objects only in cache_mem are invisible to it) and PURGEs
 *   each one itself, Vary-aware. Without it they fail permanently with the reason. There is no
 *   soft purge in Squid: force=false purges too.
 * - Preload: GET through the node. Probe: `Cache-Control: only-if-cached` (504 = not cached).
 */
export const SQUID_NO_PATTERN_PURGE = 'squid has no prefix/regex purge over HTTP (squid-purge needs on-box access: set options.squidPurge)';

interface SquidPurgeOptions {
  config: string;
  binary: string;
}

export class SquidDriver implements EdgeDriver {
  constructor(private readonly http: EdgeHttpClient) {}

  async execute(node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
    if (job.kind === 'preload') return preloadThrough(this.http, node, job, signal);
    if (job.objectType === 'cachetag') return cannotPurgeTags(node, 'Squid keeps no tags on cached objects');
    try {
      if (job.objectType === 'file') {
        const found = await this.purgeOne(node, job.host, job.path, signal);
        return { kind: 'ok', detail: found ? 'purged' : 'not cached' };
      }
      const tool = squidPurgeOptions(node);
      if (!tool) {
        return { kind: 'permanent', error: `${SQUID_NO_PATTERN_PURGE}: cannot refresh ${job.objectType} ${job.objectPath} on ${node.name}`, description: 'Internal Error' };
      }
      const urls = await listCached(tool, patternFor(job), signal);
      let purged = 0;
      // A few PURGEs in flight over the keep-alive pool; each is a sub-millisecond request.
      const queue = [...urls];
      await Promise.all(Array.from({ length: Math.min(8, queue.length) }, async () => {
        for (let url = queue.shift(); url; url = queue.shift()) {
          const u = new URL(url);
          if (await this.purgeOne(node, u.host, u.pathname + u.search, signal)) purged++;
        }
      }));
      return { kind: 'ok', detail: `purged ${purged} of ${urls.length} listed` };
    } catch (err) {
      if (err instanceof PermanentError) return { kind: 'permanent', error: err.message, description: 'Internal Error' };
      return { kind: 'retryable', error: `purge on ${node.name}: ${networkError(err)}` };
    }
  }

  async probe(node: EdgeNode, host: string, path: string, signal?: AbortSignal): Promise<ProbeState> {
    // A plain request sees only the variant stored without Accept-Encoding: ask for gzip too.
    for (const extra of [NO_HEADERS, GZIP]) {
      const res = await this.http.send(node.address, { method: 'GET', path, headers: { host, 'cache-control': 'only-if-cached', ...extra }, signal });
      // Squid's own answers say so in X-Cache ("HIT from <name>"); anything else is not its cache's word.
      const xc = String(res.headers['x-cache'] ?? '');
      if (res.status >= 200 && res.status < 400 && /^HIT/i.test(xc)) return 'hit';
      if (res.status !== 504 || !/^MISS/i.test(xc)) throw new Error(diagnoseProbe('squid', node, res));
    }
    return 'miss';
  }

  /** PURGE one URL, Vary-aware (see above). True when something was removed. */
  private async purgeOne(node: EdgeNode, host: string, path: string, signal: AbortSignal): Promise<boolean> {
    let found = false;
    for (const extra of [GZIP, NO_HEADERS]) {
      const res = await this.http.send(node.address, { method: 'PURGE', path, headers: { host, ...extra }, signal });
      if (res.status === 200) found = true;
      else if (res.status === 403) throw new PermanentError(diagnosePurge('squid', node, 'PURGE', res));
      else if (res.status !== 404) throw new Error(diagnosePurge('squid', node, 'PURGE', res));
      if (found) break;
    }
    return found;
  }
}

class PermanentError extends Error {}

const GZIP: Record<string, string> = { 'accept-encoding': 'gzip' };
const NO_HEADERS: Record<string, string> = {};

function squidPurgeOptions(node: EdgeNode): SquidPurgeOptions | null {
  const o = node.options.squidPurge as { config?: unknown; binary?: unknown } | undefined;
  if (!o) return null;
  if (typeof o.config !== 'string') throw new PermanentError(`node ${node.name}: options.squidPurge.config must be the squid.conf path`);
  return { config: o.config, binary: typeof o.binary === 'string' ? o.binary : 'squid-purge' };
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The POSIX regex squid-purge matches against stored URLs (`http://<Host>/<path>`). */
export function patternFor(job: EdgeJob): string {
  const base = `^https?://${escapeRegex(job.host)}`;
  if (job.objectType === 'directory') return base + escapeRegex(job.path);
  if (job.objectType === 'ignoreparams') return `${base}${escapeRegex(job.path.split('?')[0])}(\\?.*)?$`;
  // job.path is the regex for the path from its first '/' (POSIX ERE here: a plain group).
  return `${base}(${job.path.replace(/^\^/, '')})`;
}

/** Run `squid-purge -P 0` (list only) and return the distinct URLs it found. */
function listCached(tool: SquidPurgeOptions, regex: string, signal: AbortSignal): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(tool.binary, ['-c', tool.config, '-e', regex, '-P', '0'], { signal, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Not installed or not on this host: retrying will not help.
        if (code === 'ENOENT') return reject(new PermanentError(`${tool.binary} not found: the squid driver must run on the Squid host for pattern purges`));
        const why = String(stderr).trim() || err.message;
        // A regex it cannot compile (POSIX ERE, not PCRE) will never work either.
        if (/unable to compile re/.test(why)) return reject(new PermanentError(`${tool.binary}: ${why}`));
        return reject(new Error(`${tool.binary} failed: ${why}`));
      }
      const urls = new Set<string>();
      for (const line of stdout.split('\n')) {
        const url = line.trim().split(/\s+/).pop();
        if (url && /^https?:\/\//.test(url)) urls.add(url);
      }
      resolve([...urls]);
    });
  });
}
