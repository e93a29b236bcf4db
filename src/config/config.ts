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
  /** One driver request's time limit. */
  requestTimeoutMs: number;
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

export interface Config {
  listen: { host: string; port: number };
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
  if (cfg.store !== undefined && !/^postgres(ql)?:\/\//.test(cfg.store)) throw new Error(`--store wants a postgres:// URL, got "${cfg.store}"`);
  return cfg;
}

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw new Error(`--listen wants HOST:PORT, got "${value}"`);
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
