import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkTree, defaultsOf, fromEnv, keyAt, treeOf } from './validate.js';
import { envName, keys, SCHEMA } from './schema.js';
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

/** What one ExpandManifest preload may fetch from the origins and expand to. */
export interface ManifestLimits {
  /** URLs the call may expand to, over all its paths; beyond, it is refused whole. */
  maxUrls: number;
  /** Manifests fetched (submitted ones and the playlists they name). */
  maxFetches: number;
  /** Largest manifest read, bytes. */
  maxBytes: number;
  /** All of the call's fetches together, ms. */
  timeoutMs: number;
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
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  quotas: Record<Product, QuotaLimits>;
  /** Refresh URLs one domain may take per minute. */
  perMinutePerDomain: number;
  /** Unfinished preload rows an account may have queued. */
  preloadQueue: number;
  /** ExpandManifest preloads (domain/manifest-preload.ts): what one call may fetch and expand to. */
  manifests: ManifestLimits;
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

/** What every key is when nothing sets it (schema.ts holds them). */
export const DEFAULTS: Config = defaultsOf(SCHEMA) as unknown as Config;

export type ConfigOverrides = DeepPartial<Config>;
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Where a value came from: `default`, `file PATH`, `env NAME`, `flag --x`, or `override` (code). */
export type Sources = Record<string, string>;

/**
 * Defaults ← JSON config file ← explicit overrides (tests, embedding code). Everything is checked
 * against the schema: an unknown key, a wrong type or a value out of range throws, naming the key.
 */
export function loadConfig(overrides: ConfigOverrides = {}, file?: string): Config {
  return resolveConfig({ file, overrides }).config;
}

/**
 * The CLI's configuration: defaults ← `--config` file ← REFRESHD_* environment ← flags, each layer
 * checked against the schema, with the source of every value (for `refreshd config show`).
 */
export function resolveConfig(from: { file?: string; env?: NodeJS.ProcessEnv; flags?: Record<string, unknown>; overrides?: ConfigOverrides }): { config: Config; sources: Sources } {
  const values: Record<string, unknown> = {};
  const sources: Sources = {};
  for (const [path, key] of keys()) {
    values[path] = structuredClone(key.default);
    sources[path] = 'default';
  }
  const apply = (layer: Record<string, unknown>, source: (path: string) => string) => {
    for (const [path, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      values[path] = v;
      sources[path] = source(path);
    }
  };
  if (from.file) apply(readConfigFile(from.file), () => `file ${resolve(from.file!)}`);
  if (from.env) apply(fromEnv(from.env), (path) => `env ${envName(path, keyAt(path))}`);
  if (from.flags) apply(checkTree(from.flags, 'flag'), (path) => `flag ${keyAt(path).flag}`);
  if (from.overrides) apply(checkTree(from.overrides, 'override'), () => 'override');
  const config = treeOf(values) as unknown as Config;
  // Absolute from here on, so every message and `config show` names the directory really used.
  config.dataDir = resolve(config.dataDir);
  crossCheck(config);
  return { config, sources };
}

/** A config file: JSON, checked key by key; relative paths in it are relative to the file. */
function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read config file ${resolve(file)}: ${(err as Error).message}`);
  }
  const flat = checkTree(parsed, `config file ${resolve(file)}`);
  if (typeof flat.dataDir === 'string') flat.dataDir = resolve(dirname(resolve(file)), flat.dataDir);
  return flat;
}

function crossCheck(cfg: Config): void {
  if (cfg.retentionDays < cfg.queryWindowDays) throw new Error('retentionDays must be at least queryWindowDays');
  const w = cfg.webhooks;
  if (!(w.leaseMs > w.timeoutMs)) throw new Error('webhooks.leaseMs must be longer than webhooks.timeoutMs');
  const h = cfg.http;
  if (!(h.requestTimeoutMs >= h.headersTimeoutMs)) throw new Error('http.requestTimeoutMs must be at least http.headersTimeoutMs');
  const e = cfg.engine;
  if (!(e.attemptTimeoutMs >= e.requestTimeoutMs)) throw new Error('engine.attemptTimeoutMs must be at least engine.requestTimeoutMs');
}

export function parseListen(value: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw new Error(`${flag} wants HOST:PORT, got "${value}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}
