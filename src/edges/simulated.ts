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
      if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.name === 'TimeoutError') {
        return { kind: 'permanent', error: `origin ${url} timed out`, description: 'Origin Timeout' };
      }
      return { kind: 'retryable', error: `origin ${url}: ${networkError(err)}` };
    }
  }
}

/** Sleep, cut short when the worker stops. The abort listener is removed when the sleep ends:
 * the signal is shared by every attempt, and listeners left behind pile up (and slow it down). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
