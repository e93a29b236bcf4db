import type { Config } from '../config/config.js';
import { clientTokenClaim } from './client-token.js';
import { ApiError, invalid, missing } from '../spec/errors.js';
import type { Product } from '../spec/types.js';
import type { Consumption, Domain, LeaseRequest, NewTask, SubmitBatch, SubmitOutcome } from './records.js';
import type { PathExpansion } from './manifest-preload.js';
import { parseObjectPath, splitObjectPaths, type SubmitType } from './object-path.js';
import { dayBucket, endOfDay, kindsFor, minuteBucket, utcDay } from './quota.js';
import { checkVerifyUrls, type ScopeItem } from './verify-url.js';

/** What a refresh or preload submission asks for, after the action table has validated it. */
export interface Submission {
  accountId: number;
  product: Product;
  objectPath: string;
  type: SubmitType;
  force: boolean;
  area: string | null;
  l2Preload: boolean;
  withHeader: string | null;
  /** VerifyUrl: sample URLs the purge is verified on (domain/verify-url.ts); null when not given. */
  verifyUrl?: string | null;
  /** Idempotency key (domain/client-token.ts); absent: every call creates tasks. */
  clientToken?: string;
  /** Purge-then-warm (PreloadAfter): each node preloads the path after it confirmed the purge; also charges the preload quota. */
  preloadAfter?: boolean;
  /** ExpandManifest: how the paths become their manifests' URLs, before anything is charged (manifest-preload.ts). */
  expand?: PathExpansion;
}

/** Per-call ceilings (docs/protocol.md §7.1, §7.2) and how the limit reads in the error message. */
const PER_CALL: Record<SubmitType, { max: number; label: string }> = {
  file: { max: 1000, label: '1000 URLs' },
  ignoreparams: { max: 1000, label: '1000 URLs' },
  directory: { max: 100, label: '100 directories' },
  regex: { max: 1, label: '1 regular expression' },
  preload: { max: 100, label: '100 URLs' },
  cachetag: { max: 10, label: '10 cache tags' },
};
const MAX_DOMAINS_PER_CALL = 10;

/** What a submission needs of the store (the domain's port; the store's tasks and domains roles fit it). */
export interface SubmitStore {
  tasks: { submit(batch: SubmitBatch): Promise<SubmitOutcome>; usage(buckets: string[]): Promise<Record<string, number>> };
  domains: { findDomain(name: string): Promise<Domain | undefined> };
}

/**
 * How a submit reaches the store: directly, or through a hand-off that lets a worker of this
 * process lease the new items at submit and take them after the commit (worker/hand-off.ts).
 * Resolves once the submit is durable.
 */
export interface SubmitHandOff {
  submit(write: (lease?: LeaseRequest) => Promise<SubmitOutcome>): Promise<SubmitOutcome>;
}

/** No worker in this process: write, wait until durable. */
export const DIRECT: SubmitHandOff = {
  async submit(write) {
    const outcome = await write();
    if (outcome.ok) await outcome.durable();
    return outcome;
  },
};

/**
 * Accept a submission: split and check the paths, group them by domain (one task per domain),
 * check ownership, then let the store check quotas and write everything in one transaction.
 * Returns the task ids in the order their domains first appear.
 */
export async function submit(store: SubmitStore, config: Config, s: Submission, now: number, handOff: SubmitHandOff = DIRECT): Promise<string[]> {
  const paths = splitObjectPaths(s.objectPath);
  if (paths.length === 0) throw missing('ObjectPath');
  const limit = PER_CALL[s.type];
  if (paths.length > limit.max) throw new ApiError('SingleRequest.OverLimit', { vars: { Limit: limit.label } });

  // A path given twice in one call is one item: one purge per node, one row, charged once.
  // (Kept, each copy was a row of its own with its own attempts on every node.)
  const byDomain = new Map<string, string[]>();
  const items: ScopeItem[] = [];
  for (const text of new Set(paths)) {
    const { domain, path } = parseObjectPath(text, s.type);
    items.push({ domain, path });
    const list = byDomain.get(domain);
    if (list) list.push(text);
    else byDomain.set(domain, [text]);
  }
  if (byDomain.size > MAX_DOMAINS_PER_CALL) {
    throw new ApiError('SingleRequest.OverLimit', { vars: { Limit: `${MAX_DOMAINS_PER_CALL} domains` } });
  }
  const samples = s.verifyUrl ? await checkVerifyUrls(s.verifyUrl, s.type, items) : undefined;
  for (const domain of byDomain.keys()) await checkDomain(store, s, domain);
  const planned = s.expand ? await expandPaths(store, s, byDomain) : byDomain;

  const tasks: NewTask[] = [...planned].map(([domain, list]) => ({
    domain, objectType: s.type, force: s.force, area: s.area, l2Preload: s.l2Preload, withHeader: s.withHeader, paths: list,
    verifyUrls: samples?.get(domain),
    ...(s.preloadAfter ? { preloadAfter: true } : {}),
  }));
  const batch: SubmitBatch = {
    accountId: s.accountId,
    product: s.product,
    createdAt: now,
    consume: consumption(config, s, planned, now),
    preloadQueueLimit: s.type === 'preload' ? config.preloadQueue : undefined,
    tasks,
    clientToken: tokenOf(s, [...new Set(paths)], samples && [...samples.values()].flat(), now),
  };
  const outcome = await handOff.submit((lease) => store.tasks.submit({ ...batch, lease }));
  if (outcome.ok) return outcome.taskIds;
  if ('tokenMismatch' in outcome) throw new ApiError('IdempotentParameterMismatch');
  const expanded = s.expand ? { detail: await expansionRefusal(store, batch, outcome) } : {};
  if ('queueFull' in outcome) throw new ApiError('PreloadQueueFull', expanded);
  if (outcome.exceeded.startsWith('minute:')) throw new ApiError('QuotaPerMinuteExceeded.Refresh');
  // Alibaba answers QuotaExceeded.Refresh for preloads too (PushObjectCache error table).
  throw new ApiError('QuotaExceeded.Refresh', expanded);
}

/** ExpandManifest: the expanded paths, grouped by domain, within the per-call domain limit. */
async function expandPaths(store: SubmitStore, s: Submission, byDomain: Map<string, string[]>): Promise<Map<string, string[]>> {
  const planned = await s.expand!(byDomain, (domain) => checkDomain(store, s, domain));
  if (planned.size > MAX_DOMAINS_PER_CALL) {
    throw new ApiError('SingleRequest.OverLimit', { vars: { Limit: `${MAX_DOMAINS_PER_CALL} domains` }, detail: 'The manifests name URLs of more domains.' });
  }
  return planned;
}

/** Why an expanded preload was refused, in numbers: what it needs, and what is left of the limit it met. */
async function expansionRefusal(store: SubmitStore, batch: SubmitBatch, outcome: Exclude<SubmitOutcome, { ok: true } | { tokenMismatch: true }>): Promise<string> {
  const needs = batch.tasks.reduce((n, t) => n + t.paths.length, 0);
  if ('queueFull' in outcome) return `The manifests expand to ${needs} URLs, more than the preload queue has room for.`;
  const limit = batch.consume.find((c) => c.bucket === outcome.exceeded)?.limit ?? 0;
  const used = (await store.tasks.usage([outcome.exceeded]))[outcome.exceeded] ?? 0;
  const quota = outcome.exceeded.endsWith(':preloadEdge') ? 'edge preload quota (PreloadEdgeQuota)' : 'preload quota (PreloadQuota)';
  return `The manifests expand to ${needs} URLs; today's ${quota} has ${Math.max(0, limit - used)} left.`;
}

/** What RefreshObjectCacheByCacheTag asks for: tags of one domain. */
export interface TagSubmission {
  accountId: number;
  product: Product;
  domain: string;
  /** The CacheTag parameter: comma-separated tags. */
  cacheTag: string;
  force: boolean;
  /** VerifyUrl: sample URLs of the domain, each carrying every tag (domain/verify-url.ts). */
  verifyUrl?: string;
  clientToken?: string;
}

/** A tag travels in a header and in xkey's space-separated list: visible ASCII, no comma, at most 128. */
const CACHE_TAG = /^[\x21-\x2b\x2d-\x7e]{1,128}$/;

/**
 * Accept a purge by cache tag: one task for the domain, one item per distinct tag (ObjectPath is
 * the tag), each counting against the daily directory bucket (quota.ts kindsFor).
 */
export async function submitTags(store: SubmitStore, config: Config, s: TagSubmission, now: number, handOff: SubmitHandOff = DIRECT): Promise<string> {
  const tags = [...new Set(s.cacheTag.split(',').map((t) => t.trim()).filter((t) => t !== ''))];
  if (tags.length === 0) throw missing('CacheTag');
  if (tags.length > PER_CALL.cachetag.max) throw new ApiError('SingleRequest.OverLimit', { vars: { Limit: PER_CALL.cachetag.label } });
  if (!tags.every((t) => CACHE_TAG.test(t))) throw invalid('CacheTag');
  const domain = s.domain.trim().toLowerCase();
  const samples = s.verifyUrl ? (await checkVerifyUrls(s.verifyUrl, 'cachetag', [{ domain, path: '/' }])).get(domain) : undefined;
  const submission: Submission = { ...s, objectPath: '', type: 'cachetag', area: null, l2Preload: false, withHeader: null };
  await checkDomain(store, submission, domain);
  const byDomain = new Map([[domain, tags]]);
  const batch: SubmitBatch = {
    accountId: s.accountId, product: s.product, createdAt: now, consume: consumption(config, submission, byDomain, now),
    tasks: [{ domain, objectType: 'cachetag', force: s.force, area: null, l2Preload: false, withHeader: null, paths: tags, verifyUrls: samples }],
    clientToken: clientTokenClaim(s.clientToken, { product: s.product, type: 'cachetag', domain, tags, force: s.force, verifyUrls: samples }, now),
  };
  const outcome = await handOff.submit((lease) => store.tasks.submit({ ...batch, lease }));
  if (outcome.ok) return outcome.taskIds[0];
  if ('tokenMismatch' in outcome) throw new ApiError('IdempotentParameterMismatch');
  throw new ApiError('QuotaExceeded.Refresh');
}

/**
 * The ClientToken claim of a submission: what it asks for, paths and samples as read (each once,
 * in order; no samples, no entry, so calls without VerifyUrl read as they always did).
 */
function tokenOf(s: Submission, paths: string[], samples: string[] | undefined, now: number) {
  // The paths as asked, before any manifest expansion: a retry asks the same even if the origin's
  // manifests changed meanwhile, and gets the first call's tasks.
  const { accountId: _account, objectPath: _text, clientToken, expand, verifyUrl: _samples, ...asked } = s;
  return clientTokenClaim(clientToken, { ...asked, expandManifest: expand !== undefined, paths, verifyUrls: samples }, now);
}

async function checkDomain(store: SubmitStore, s: Submission, domain: string): Promise<Domain> {
  const found = (await store.domains.findDomain(domain)) ?? (await findWildcard(store, domain));
  if (!found || found.accountId !== s.accountId || found.product !== s.product) {
    throw new ApiError('InvalidDomain.NotFound', { vars: { Domain: domain } });
  }
  if (!found.online) throw new ApiError('InvalidDomain.Offline');
  return found;
}

/** `img.example.com` is served by a registered wildcard domain `*.example.com`. */
async function findWildcard(store: SubmitStore, domain: string) {
  for (let dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
    const found = await store.domains.findDomain('*' + domain.slice(dot));
    if (found) return found;
  }
  return undefined;
}

function consumption(config: Config, s: Submission, byDomain: Map<string, string[]>, now: number): Consumption[] {
  const quotas = config.quotas[s.product];
  const day = utcDay(now);
  const total = [...byDomain.values()].reduce((n, l) => n + l.length, 0);
  // Purge-then-warm also warms every path on every node: an edge preload of each.
  const kinds = [...kindsFor(s.type, s.l2Preload), ...(s.preloadAfter ? kindsFor('preload', false) : [])];
  const out: Consumption[] = kinds.map((kind) => ({
    bucket: dayBucket(s.accountId, s.product, day, kind), amount: total, limit: quotas[kind], expiresAt: endOfDay(now),
  }));
  if (s.type === 'file' || s.type === 'ignoreparams') {
    for (const [domain, list] of byDomain) {
      out.push({ bucket: minuteBucket(domain, now), amount: list.length, limit: config.perMinutePerDomain, expiresAt: now + 120_000 });
    }
  }
  return out;
}
