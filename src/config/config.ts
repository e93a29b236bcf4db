import { readFileSync } from 'node:fs';
import type { Product } from '../spec/types.js';

/** Daily quotas per account, per product (Alibaba's documented defaults; docs/protocol.md §7). */
export interface QuotaLimits {
  url: number;
  dir: number;
  regex: number;
  ignoreParams: number;
  preload: number;
  preloadEdge: number;
  block: number;
}

/** The execution engine: workers, retries, the built-in simulated fleet. */
export interface EngineConfig {
  /** Attempts per node before an item is Failed on that node. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt (with jitter), capped at a minute. */
  retryBaseMs: number;
  /** How long a claimed attempt stays leased unless renewed (every third of it) by its worker. */
  leaseMs: number;
  /** Attempts one worker process runs at once, over all nodes. */
  maxInFlight: number;
  /** Requests one node gets at once (a node's `concurrency` option overrides it). */
  perNodeConcurrency: number;
  /** Idle poll interval; in-process submits wake the worker at once. */
  pollMs: number;
  /** One driver request's time limit, connect to last byte. */
  requestTimeoutMs: number;
  /** One attempt's time limit, all of a driver's requests and steps together; past it the attempt is retried. */
  attemptTimeoutMs: number;
  /** Simulated nodes created on first start when the store has no nodes (0: none). */
  simulatedNodes: number;
  /** Each simulated node's latency range for one operation, ms. */
  simulatedLatencyMs: [number, number];
  /** Share of simulated operations that fail and are retried (failure injection). */
  simulatedFailureRate: number;
}

/** Signed webhooks (worker/notifier.ts): how finished tasks are noticed and events are sent. */
export interface WebhookConfig {
  /** How often each worker process looks for finished tasks and due deliveries. */
  pollMs: number;
  /** One POST's time limit, connect to last byte. */
  timeoutMs: number;
  /** Attempts per delivery before it is failed for good. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt (with jitter) up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a claimed delivery is held; must exceed timeoutMs (a dead process's deliveries run again after it). */
  leaseMs: number;
  /** POSTs one worker process has in flight at once. */
  maxInFlight: number;
  /** Unfinished tasks looked at per poll (a scan continues where the last one stopped). */
  finishBatch: number;
}

/**
 * What one connection or request may cost before it is authenticated (http/server.ts). Sized
 * from the largest legal call; docs/operations.md explains each figure.
 */
export interface HttpLimits {
  /** Request line plus headers: pop-core sends every parameter in a GET query. Beyond: RequestHeaderTooLarge (431). */
  maxHeaderBytes: number;
  /** A form body. Beyond: RequestBodyTooLarge (413). */
  maxBodyBytes: number;
  /** Parameters in the query and body together. Beyond: InvalidParameter. */
  maxParams: number;
  /** From the first byte to the end of the headers. */
  headersTimeoutMs: number;
  /** From the first byte to the end of the body. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept (longer than the clients' own idle timers). */
  keepAliveTimeoutMs: number;
  /** Open connections the API port holds at once; more are closed as they arrive. */
  maxConnections: number;
}

export interface Config {
  listen: { host: string; port: number };
  /** Serve /metrics on this address instead of the API port (which then has no /metrics). */
  metricsListen?: { host: string; port: number };
  http: HttpLimits;
  /** WaitForTasks calls one AccessKey may hold open at once, per API process. Beyond: Throttling. */
  waitForTasksPerKey: number;
  dataDir: string;
  /** `postgres://…` for PostgreSQL; unset: the embedded SQLite file in dataDir. */
  store?: string;
  quotas: Record<Product, QuotaLimits>;
  /** Refresh URLs one domain may take per minute. */
  perMinutePerDomain: number;
  /** Unfinished preload rows an account may have queued. */
  preloadQueue: number;
  /** Per-user per-action rate limits from the action tables; off for load tests. */
  rateLimits: boolean;
  /** Allowed client clock skew, ms. */
  signatureSkewMs: number;
  /** Days of tasks DescribeRefreshTasks can see. */
  queryWindowDays: number;
  /** Days items are kept before the sweeper deletes them (≥ queryWindowDays). */
  retentionDays: number;
  /** Days the audit log keeps each API call (independent of the task window). */
  auditRetentionDays: number;
  engine: EngineConfig;
  webhooks: WebhookConfig;
}

export const DEFAULTS: Config = {
  listen: { host: '127.0.0.1', port: 7070 },
  http: {
    // A 1,000-URL RefreshObjectCaches by pop-core's default GET is ~92 KB with typical URLs.
    maxHeaderBytes: 128 * 1024,
    // 1,000 paths of 1,024 ASCII characters, every character percent-encoded, plus the rest.
    maxBodyBytes: 3 * 1024 * 1024 + 64 * 1024,
    maxParams: 100,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 65_000,
    maxConnections: 2_000,
  },
  waitForTasksPerKey: 20,
  dataDir: './data',
  quotas: {
    cdn: { url: 10_000, dir: 100, regex: 20, ignoreParams: 10_000, preload: 1_000, preloadEdge: 1_000, block: 100 },
    vod: { url: 2_000, dir: 100, regex: 20, ignoreParams: 2_000, preload: 500, preloadEdge: 500, block: 100 },
  },
  perMinutePerDomain: 1_000,
  preloadQueue: 100_000,
  rateLimits: true,
  signatureSkewMs: 15 * 60_000,
  queryWindowDays: 3,
  retentionDays: 3,
  auditRetentionDays: 30,
  engine: {
    maxAttempts: 5,
    retryBaseMs: 1_000,
    leaseMs: 30_000,
    maxInFlight: 512,
    perNodeConcurrency: 8,
    pollMs: 500,
    requestTimeoutMs: 10_000,
    attemptTimeoutMs: 25_000,
    simulatedNodes: 8,
    // A few seconds end to end by default, so the emulator shows Pending → Refreshing → Complete.
    simulatedLatencyMs: [300, 3_000],
    simulatedFailureRate: 0,
  },
  webhooks: {
    pollMs: 200,
    timeoutMs: 10_000,
    maxAttempts: 8,
    retryBaseMs: 1_000,
    retryMaxMs: 10 * 60_000,
    leaseMs: 30_000,
    maxInFlight: 32,
    finishBatch: 500,
  },
};

export type ConfigOverrides = DeepPartial<Config>;
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Defaults ← JSON config file ← explicit overrides (CLI flags, env). */
export function loadConfig(overrides: ConfigOverrides = {}, file?: string): Config {
  let fromFile: ConfigOverrides = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as ConfigOverrides;
    } catch (err) {
      throw new Error(`cannot read config file ${file}: ${(err as Error).message}`);
    }
  }
  const cfg = merge(merge(structuredClone(DEFAULTS), fromFile), overrides);
  if (cfg.retentionDays < cfg.queryWindowDays) throw new Error('retentionDays must be at least queryWindowDays');
  if (!(cfg.auditRetentionDays >= 1)) throw new Error('auditRetentionDays must be at least 1');
  const w = cfg.webhooks;
  if (!(w.leaseMs > w.timeoutMs)) throw new Error('webhooks.leaseMs must be longer than webhooks.timeoutMs');
  if (!(w.maxAttempts >= 1 && w.maxInFlight >= 1 && w.finishBatch >= 1 && w.pollMs > 0)) {
    throw new Error('webhooks.maxAttempts, maxInFlight, finishBatch and pollMs must be positive');
  }
  const h = cfg.http;
  if (!(h.maxHeaderBytes >= 16 * 1024 && h.maxBodyBytes >= 64 * 1024 && h.maxParams >= 32 && h.maxConnections >= 1 && cfg.waitForTasksPerKey >= 1)) {
    throw new Error('http.maxHeaderBytes (≥ 16384), maxBodyBytes (≥ 65536), maxParams (≥ 32), maxConnections and waitForTasksPerKey (≥ 1) are too small');
  }
  if (!(h.headersTimeoutMs > 0 && h.requestTimeoutMs >= h.headersTimeoutMs && h.keepAliveTimeoutMs > 0)) {
    throw new Error('http.requestTimeoutMs must be at least http.headersTimeoutMs (both positive), and keepAliveTimeoutMs positive');
  }
  const e = cfg.engine;
  if (!(e.requestTimeoutMs > 0 && e.attemptTimeoutMs >= e.requestTimeoutMs)) {
    throw new Error('engine.attemptTimeoutMs must be at least engine.requestTimeoutMs (both positive)');
  }
  if (cfg.store !== undefined && !/^postgres(ql)?:\/\//.test(cfg.store)) throw new Error(`--store wants a postgres:// URL, got "${cfg.store}"`);
  return cfg;
}

export function parseListen(value: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw new Error(`${flag} wants HOST:PORT, got "${value}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function merge<T>(base: T, over: unknown): T {
  if (!over || typeof over !== 'object') return base;
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const cur = (base as Record<string, unknown>)[k];
    (base as Record<string, unknown>)[k] = cur && typeof cur === 'object' && typeof v === 'object' && !Array.isArray(v) ? merge(cur, v) : v;
  }
  return base;
}
