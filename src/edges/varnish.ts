import { diagnoseProbe, diagnosePurge } from './diagnose.js';
import type { EdgeDriver, EdgeJob, EdgeNode, FailureDescription, Inspection, Outcome, ProbeState } from './driver.js';
import { EdgeHttpClient, networkError, type EdgeResponse } from './http-client.js';

/**
 * The `varnish` driver: every operation is one HTTP request to the node's listener, answered by
 * the VCL `refreshd edge config varnish` prints (config/varnish-vcl.ts, docs/caches.md). What
 * that VCL provides, from the purgers ACL:
 *   PURGE <url>          hard purge of every Vary variant: 200 "Purged" / 404 "Not in cache"
 *   BAN + X-Ban-Regex    std.ban on obj.http.x-host/x-url (lurker-friendly): 200, or 400 + PCRE error
 *   XKEY-PURGE / XKEY-SOFTPURGE + X-Key   xkey (varnish-modules) on the `d:<host><dir>` tags that
 *                        vcl_backend_response puts on the first XKEY_DIRECTORY_DEPTH directory levels,
 *                        and on the `t:<host>:<tag>` tags it makes of the origin's cache tags
 *   X-Cache-Probe: 1     answered from the cache only: 200 HIT / 200 STALE / 404 MISS (never fetches)
 *   X-Fetch-Error        on a 503 from a failed backend fetch: "timeout" or "failed"
 * Varnish keys on the Host header exactly as sent, so the VCL lower-cases it and drops the port,
 * which is what toEdgeTarget gives the driver; sites with their own VCL must do the same.
 * Every answer Varnish itself gives carries X-Varnish: one without it came from the origin.
 */

/** The VCL tags `d:<host>/`, `/a/`, `/a/b/` and `/a/b/c/`: deeper directories need a BAN. */
export const XKEY_DIRECTORY_DEPTH = 3;

export interface VarnishOptions {
  /** How to refresh a directory: xkey tags (instant, can be soft) or a ban (any depth, always hard). */
  directory: 'xkey' | 'ban';
}

export class VarnishDriver implements EdgeDriver {
  constructor(private readonly http: EdgeHttpClient) {}

  async execute(node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
    const mode = (node.options as Partial<VarnishOptions>).directory ?? 'xkey';
    if (mode !== 'xkey' && mode !== 'ban') {
      return permanent(`node ${node.name}: options.directory must be 'xkey' or 'ban', not ${JSON.stringify(mode)}`);
    }
    // Purges, bans and xkey purges are answered by Varnish itself: pipelined (http-client.ts).
    const send = async (method: string, path: string, headers: Record<string, string | string[]>) =>
      this.http.send(node.address, { method, path, headers: { ...headers, host: job.host }, signal, pipeline: method !== 'GET' });
    try {
      if (job.kind === 'preload') return preloadOutcome(await send('GET', job.path, preloadHeaders(job.headers)));
      switch (job.objectType) {
        case 'file':
          // Alibaba's Force only matters for non-File types: a file refresh always drops the object.
          return purgeOutcome(await send('PURGE', job.path, {}), node, 'PURGE');
        case 'directory': {
          const dir = job.path.endsWith('/') ? job.path : job.path + '/';
          if (mode === 'xkey' && directoryDepth(dir) <= XKEY_DIRECTORY_DEPTH && !/[\s,]/.test(dir)) {
            const method = job.force ? 'XKEY-PURGE' : 'XKEY-SOFTPURGE';
            return purgeOutcome(await send(method, '/', { 'x-key': `d:${job.host}${dir}` }), node, method);
          }
          // A ban cannot be soft: force=false on a deep directory (or in ban mode) still invalidates hard.
          return banOutcome(node, await send('BAN', '/', { 'x-ban-regex': banRegex('^' + escapeRegex(dir)) }));
        }
        case 'regex':
          // job.path is the regex for the path from its first '/', so anchor it at the start.
          return banOutcome(node, await send('BAN', '/', { 'x-ban-regex': banRegex(`^(?:${job.path})`) }));
        case 'cachetag': {
          // Tags are kept per host (the VCL prefixes them), so one domain's purge never reaches another's objects.
          const method = job.force ? 'XKEY-PURGE' : 'XKEY-SOFTPURGE';
          return purgeOutcome(await send(method, '/', { 'x-key': cacheTagKey(job.host, job.path) }), node, method);
        }
        case 'ignoreparams': {
          const bare = job.path.replace(/[?#].*$/, '');
          return banOutcome(node, await send('BAN', '/', { 'x-ban-regex': banRegex(`^${escapeRegex(bare)}(\\?.*)?$`) }));
        }
        default:
          return permanent(`varnish cannot refresh object type ${job.objectType}`);
      }
    } catch (err) {
      return signal.aborted ? { kind: 'retryable', error: 'aborted' } : failedRequest(err);
    }
  }

  async probe(node: EdgeNode, host: string, path: string, signal?: AbortSignal): Promise<ProbeState> {
    return (await this.inspect(node, host, path, signal)).state;
  }

  /**
   * Refreshes go out pipelined on the node's one connection (http-client.ts), and Varnish answers
   * a connection's requests in order: the probe, dispatched right after the purge, ban or xkey
   * purge, is looked up after it. Preloads use another pool, so they are probed in turn.
   */
  executeThenInspect(node: EdgeNode, job: EdgeJob, path: string, signal: AbortSignal): [Promise<Outcome>, Promise<Inspection>] | null {
    if (job.kind !== 'refresh' || !this.http.pipelineOrdered) return null;
    // execute() dispatches its one request before its first await, so it goes out first.
    const outcome = this.execute(node, job, signal);
    return [outcome, this.inspect(node, job.host, path, signal)];
  }

  async inspect(node: EdgeNode, host: string, path: string, signal?: AbortSignal): Promise<Inspection> {
    // Answered by the VCL from the cache alone (synth): safe to pipeline behind the purge. GET,
    // not HEAD: Varnish closes the connection after a synthetic answer to HEAD (300 pipelined
    // probes: 660–870 ms as HEAD, 100–270 ms as GET), and the synthetic body is a few hundred bytes.
    const res = await this.http.send(node.address, { method: 'GET', path, headers: { host, 'x-cache-probe': '1' }, signal, pipeline: true });
    const state = String(res.headers['x-cache'] ?? '').toUpperCase();
    if (res.status === 404 && state === 'MISS') return { state: 'miss' };
    const age = Number(res.headers['x-obj-age']);
    const ageSeconds = Number.isFinite(age) ? age : undefined;
    if (res.status === 200 && state === 'HIT') return { state: 'hit', ageSeconds };
    if (res.status === 200 && state === 'STALE') return { state: 'stale', ageSeconds };
    throw new Error(diagnoseProbe('varnish', node, res));
  }
}

/** The xkey tag the VCL gives objects of `host` that the origin tagged `tag`. */
export function cacheTagKey(host: string, tag: string): string {
  return `t:${host}:${tag}`;
}

/** Directory levels below the root: `/` is 0, `/a/` is 1, `/a/b/c/` is 3. */
export function directoryDepth(dir: string): number {
  return dir.split('/').filter((s) => s !== '').length;
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Make a regex safe to splice into the VCL's ban string. Varnish splits a ban on whitespace and
 * treats `"` as quoting, so both become PCRE `\xHH` escapes (which match the same characters);
 * a backslash that escaped such a character is dropped with it.
 */
export function banRegex(regex: string): string {
  return regex.replace(/(\\*)([\s"])/g, (_, slashes: string, ch: string) =>
    slashes.slice(0, slashes.length - (slashes.length % 2)) + '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0'));
}

function preloadHeaders(headers: Record<string, string[]>): Record<string, string[]> {
  // Host is the job's domain, and a probe header would turn the preload into a cache-only lookup.
  const drop = new Set(['host', 'x-cache-probe']);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !drop.has(name.toLowerCase())));
}

function purgeOutcome(res: EdgeResponse, node: EdgeNode, method: string): Outcome {
  // 404 "Not in cache" is success too: the object is gone either way. Only the VCL's own answers
  // count: the origin's 200 to a PURGE that the builtin VCL piped to it is no purge.
  const fromVarnish = res.headers['x-varnish'] !== undefined;
  if (fromVarnish && (res.status === 200 || (res.status === 404 && reason(res) === 'Not in cache'))) return { kind: 'ok', detail: statusLine(res) };
  return unexpected(res, node, method);
}

function banOutcome(node: EdgeNode, res: EdgeResponse): Outcome {
  const fromVarnish = res.headers['x-varnish'] !== undefined;
  if (fromVarnish && res.status === 200) return { kind: 'ok', detail: statusLine(res) };
  // The VCL answers 400 with std.ban_error() when PCRE rejects the regex: retrying cannot help.
  if (fromVarnish && res.status === 400) return permanent(`varnish rejected the ban: ${reason(res)}`);
  return unexpected(res, node, 'BAN');
}

function preloadOutcome(res: EdgeResponse): Outcome {
  // 3xx is stored like any other response: the node now holds what the origin serves.
  if (res.status >= 200 && res.status < 400) return { kind: 'ok', detail: `${statusLine(res)} X-Cache: ${res.headers['x-cache'] ?? '?'}` };
  if (res.status >= 500) {
    if (res.headers['x-fetch-error'] === 'timeout') return permanent(`origin did not answer in time (${statusLine(res)})`, 'Origin Timeout');
    return permanent(`origin answered ${statusLine(res)}`, 'Origin Return StatusCode 5XX');
  }
  return permanent(`origin answered ${res.status}`);
}

function unexpected(res: EdgeResponse, node: EdgeNode, method: string): Outcome {
  // E.g. 405 "Not allowed" (we are not in the purgers ACL), the builtin VCL passing PURGE to the
  // origin, a VCL without these methods: the operator can fix the node, so retry with backoff
  // rather than fail the task for good; the error says what to fix.
  return { kind: 'retryable', error: diagnosePurge('varnish', node, method, res, reason(res)) };
}

function failedRequest(err: unknown): Outcome {
  const e = err as { code?: string };
  // undici refuses before sending, e.g. a WithHeader value it cannot put on the wire: retrying cannot help.
  if (e.code === 'UND_ERR_INVALID_ARG') return permanent(`request not sent: ${networkError(err)}`);
  if (/TIMEOUT/.test(e.code ?? '')) return { kind: 'retryable', error: `varnish did not answer in time (${networkError(err)})` };
  return { kind: 'retryable', error: `varnish unreachable: ${networkError(err)}` };
}

function permanent(error: string, description: FailureDescription = 'Internal Error'): Outcome {
  return { kind: 'permanent', error, description };
}

/** Varnish's reason phrase, read from the `<title>` of its synthetic page (undici drops it). */
function reason(res: EdgeResponse): string {
  const title = /<title>\d{3} ([^<]*)<\/title>/.exec(res.text);
  return title ? title[1] : '';
}

function statusLine(res: EdgeResponse): string {
  return `${res.status} ${reason(res)}`.trim();
}
