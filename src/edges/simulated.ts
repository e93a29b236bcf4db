import type { EdgeDriver, EdgeJob, EdgeNode, Outcome } from './driver.js';
import { networkError, type EdgeHttpClient } from './http-client.js';

/**
 * The built-in fleet of `refreshd serve`: nodes that live in the process, so the emulator
 * behaves like Alibaba offline — each operation takes a while (latency range per node) and may
 * fail (failure injection), so tasks pass through Refreshing with rising Process. Preloads fetch
 * the domain's real origin, so origin errors are real; a domain without an origin warms nothing.
 */
export interface SimulatedOptions {
  latencyMs?: [number, number];
  failureRate?: number;
}

export class SimulatedDriver implements EdgeDriver {
  constructor(private readonly http: EdgeHttpClient, private readonly random = Math.random) {}

  async execute(node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
    const o = node.options as SimulatedOptions;
    const [min, max] = o.latencyMs ?? [0, 0];
    await sleep(min + (max - min) * this.random(), signal);
    if (this.random() < (o.failureRate ?? 0)) return { kind: 'retryable', error: `simulated failure on ${node.name}` };
    if (job.kind === 'preload' && job.origin) return this.fetchOrigin(job, signal);
    return { kind: 'ok' };
  }

  private async fetchOrigin(job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
    const url = job.origin!.replace(/\/+$/, '') + job.path;
    try {
      const res = await this.http.fetchUrl(url, { headers: { ...job.headers, host: job.host }, signal });
      if (res.status >= 500) return { kind: 'permanent', error: `origin ${url} answered ${res.status}`, description: 'Origin Return StatusCode 5XX' };
      if (res.status >= 400) return { kind: 'permanent', error: `origin ${url} answered ${res.status}`, description: 'Internal Error' };
      return { kind: 'ok', detail: `origin ${res.status}` };
    } catch (err) {
      const e = err as { code?: string; name?: string };
      if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_DEADLINE_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.name === 'TimeoutError') {
        return { kind: 'permanent', error: `origin ${url} timed out`, description: 'Origin Timeout' };
      }
      return { kind: 'retryable', error: `origin ${url}: ${networkError(err)}` };
    }
  }
}

/**
 * Sleeps cut short by a signal, one abort listener per signal. The executor passes one signal
 * to every attempt, and EventTarget.addEventListener scans the listeners already there (to skip
 * duplicates), so a listener per sleep made each sleep O(sleeps in flight): 15 % of the worker's
 * CPU with 1,600 sleeps in flight on 200 nodes. A Set per signal makes it O(1).
 */
const sleepers = new WeakMap<AbortSignal, Set<() => void>>();

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  if (signal.aborted) return Promise.reject(signal.reason);
  let pending = sleepers.get(signal);
  if (!pending) {
    const set = (pending = new Set());
    sleepers.set(signal, set);
    signal.addEventListener('abort', () => {
      for (const cancel of set) cancel();
      set.clear();
    }, { once: true });
  }
  const set = pending;
  return new Promise((resolve, reject) => {
    const cancel = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      set.delete(cancel);
      resolve();
    }, ms);
    set.add(cancel);
  });
}
