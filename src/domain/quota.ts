import type { QuotaLimits } from '../config/config.js';
import type { Product } from '../spec/types.js';
import type { SubmitType } from './object-path.js';

/**
 * Quota buckets. Daily buckets are per account and UTC day; the per-minute bucket is per domain.
 * Each accepted path consumes exactly the buckets named here, inside the submit transaction.
 */
export type QuotaKind = keyof QuotaLimits;

export const DAY_MS = 86_400_000;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayBucket(accountId: number, product: Product, day: string, kind: QuotaKind): string {
  return `day:${day}:${accountId}:${product}:${kind}`;
}

export function minuteBucket(domain: string, ms: number): string {
  return `minute:${Math.floor(ms / 60_000)}:${domain}`;
}

/** The daily buckets one path of a submission consumes. */
export function kindsFor(type: SubmitType, l2Preload: boolean): QuotaKind[] {
  switch (type) {
    case 'file':
      return ['url'];
    case 'directory':
      return ['dir'];
    case 'regex':
      return ['regex'];
    case 'ignoreparams':
      return ['ignoreParams'];
    case 'cachetag':
      // A tag names a set of objects, as a directory does, and costs a cache as much to drop:
      // each tag counts against the directory bucket (DirQuota / RefreshDirQuota).
      return ['dir'];
    case 'preload':
      // Every preload counts against PreloadQuota; those warming the edge (L1) also against PreloadEdge.
      return l2Preload ? ['preload'] : ['preload', 'preloadEdge'];
  }
}

/** Start of the next UTC day: when a daily bucket can be forgotten. */
export function endOfDay(ms: number): number {
  return (Math.floor(ms / DAY_MS) + 1) * DAY_MS;
}

/** What reading quotas needs of the store (the store's tasks role fits it). */
export interface UsageReads {
  tasks: { usage(buckets: string[]): Promise<Record<string, number>> };
}

/** Today's (UTC) limit and what remains of it, per kind asked: what both quota actions report. */
export async function todaysQuota(
  store: UsageReads, limits: QuotaLimits, accountId: number, product: Product, now: number, kinds: readonly QuotaKind[],
): Promise<Record<QuotaKind, { quota: number; remain: number }>> {
  const day = utcDay(now);
  const buckets = kinds.map((kind) => dayBucket(accountId, product, day, kind));
  const used = await store.tasks.usage(buckets);
  const out = {} as Record<QuotaKind, { quota: number; remain: number }>;
  kinds.forEach((kind, i) => (out[kind] = { quota: limits[kind], remain: Math.max(0, limits[kind] - (used[buckets[i]] ?? 0)) }));
  return out;
}
