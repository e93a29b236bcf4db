import { readFileSync } from 'node:fs';
import type { Product } from '../spec/types.js';

/** Daily quotas per account, per product (Alibaba's documented defaults; protocol.md §8.1–8.7). */
export interface QuotaLimits {
  url: number;
  dir: number;
  regex: number;
  ignoreParams: number;
  preload: number;
  preloadEdge: number;
  block: number;
}

export interface Config {
  listen: { host: string; port: number };
  dataDir: string;
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
