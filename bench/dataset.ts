/**
 * The describe benchmark's data set, independent of the store it goes into: accounts with their
 * domains, then tasks and their items in created_at order, shaped like three days of real
 * traffic. Seeded and reproducible: the same options give the same rows, so the SQLite loader
 * (fill-store.ts) and the PostgreSQL loader (fill-postgres.ts) fill identical stores, and item
 * ids (1, 2, … in the order generated) line up between them.
 *
 * Only AccessKey pairs and account uids are random (crypto): they are credentials, not data.
 */
import { deriveStatus, type ItemStatus, type NodeCounts } from '../src/domain/progress.js';
import type { SubmitType } from '../src/domain/object-path.js';
import { pathHash } from '../src/store/path-hash.js';

export const FIRST_TASK_ID = 17_000_000_001;
export const DAY_MS = 86_400_000;
/** Accounts, keys and domains are dated this long before the first task. */
export const ACCOUNT_AGE_MS = 90 * DAY_MS;

export interface DataOptions {
  items: number;
  accounts: number;
  /** Newest created_at; items span [end - spanMs, end]. */
  end: number;
  spanMs: number;
  seed?: number;
}

export interface DomainPlan {
  name: string;
  origin: string;
  /** Nodes in scope for this domain's tasks (node counts of its items). */
  nodes: number;
  scheme: string;
}

export interface AccountPlan {
  /** `bench-0001`, … */
  name: string;
  domains: DomainPlan[];
  domainCum: Float64Array;
}

export interface ItemSpec {
  path: string;
  hash: number;
  status: ItemStatus;
  total: number | null;
  applied: number;
  failed: number;
  description: string;
}

export interface TaskSpec {
  id: number;
  /** Index into BenchData.accounts; the loader maps it to the store's account id. */
  account: number;
  domain: string;
  type: SubmitType;
  force: 0 | 1;
  area: string | null;
  l2: 0 | 1;
  createdAt: number;
  items: ItemSpec[];
}

/** Small, fast, seedable PRNG (mulberry32): the data set is the same for the same seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pick an index from cumulative weights (binary search). */
function pick(cum: Float64Array, r: number): number {
  const x = r * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function cumulative(weights: number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let s = 0;
  weights.forEach((w, i) => (out[i] = s += w));
  return out;
}

/** Share of *items* per object type (the brief: file ~60 %, directory ~10 %, regex 2 %, preload ~28 %). */
const TYPE_ITEM_SHARE: [SubmitType, number][] = [['file', 0.6], ['directory', 0.1], ['regex', 0.02], ['preload', 0.28]];
/** Paths per call the API allows per type; a task never holds more than this. */
const TYPE_MAX: Record<SubmitType, number> = { file: 50, directory: 50, regex: 1, preload: 50, ignoreparams: 50, cachetag: 10 };

/**
 * Task size, 1–50 items, skewed small as real callers are: many single-URL purges, some batches.
 * 35 % one item, 35 % 2–10, 30 % 11–50 (mean ≈ 11.6).
 */
function taskSize(r: () => number, max: number): number {
  if (max === 1) return 1;
  const u = r();
  const n = u < 0.35 ? 1 : u < 0.7 ? 2 + Math.floor(r() * 9) : 11 + Math.floor(r() * 40);
  return Math.min(n, max);
}
const MEAN_TASK_SIZE = 0.35 * 1 + 0.35 * 6 + 0.3 * 30.5;

const HOT_PATHS = ['/', '/index.html', '/app.js', '/app.css', '/favicon.ico', '/manifest.json', '/api/config.json', '/sitemap.xml'];
const FILE_DIRS = ['static/js', 'static/css', 'img/products', 'img/banners', 'media/video', 'downloads', 'assets', 'cms/pages'];
const FILE_EXT = ['.jpg', '.png', '.webp', '.js', '.css', '.html', '.mp4', '.m3u8', '.json', '.woff2'];
const SUBDOMAINS = ['www', 'img', 'static', 'cdn', 'video', 'dl', 'api', 'm'];

export class BenchData {
  readonly accounts: AccountPlan[] = [];
  private readonly accountCum: Float64Array;
  private readonly r: () => number;

  /** Plans the accounts and domains at once; the tasks come from tasks(), which may run once. */
  constructor(private readonly opts: DataOptions) {
    const r = (this.r = rng(opts.seed ?? 20241123));
    // Weights: 1 % of accounts (at least 3) are "heavy" at 10x the mean; the rest spread 0.1–1.9x.
    const heavy = Math.max(3, Math.round(opts.accounts / 100));
    const raw: number[] = [];
    for (let i = 0; i < opts.accounts; i++) raw.push(i < heavy ? 0 : 0.1 + r() * 1.8);
    // Solve for the heavy weight so that it is 10x the overall mean: h = 10 * (h*H + S) / N.
    const rest = raw.reduce((a, b) => a + b, 0);
    const h = (10 * rest) / (opts.accounts - 10 * heavy);
    if (!(h > 0)) throw new Error('too few accounts for 10x heavy accounts');
    for (let i = 0; i < heavy; i++) raw[i] = h;
    // Shuffle so heavy accounts are not simply the first ids.
    for (let i = raw.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [raw[i], raw[j]] = [raw[j], raw[i]];
    }
    this.accountCum = cumulative(raw);
    for (let i = 0; i < opts.accounts; i++) {
      // "A couple of domains": 2–4, heavier accounts 5–8; the first domain is the busiest.
      const n = raw[i] >= h ? 5 + Math.floor(r() * 4) : 2 + Math.floor(r() * 3);
      const site = `shop${String(i + 1).padStart(4, '0')}.example.com`;
      const domains: DomainPlan[] = [];
      for (let d = 0; d < n; d++) {
        const name = `${SUBDOMAINS[d % SUBDOMAINS.length]}.${site}`;
        domains.push({ name, origin: `http://origin.${site}`, nodes: 40 + Math.floor(r() * 360), scheme: r() < 0.7 ? 'https://' : 'http://' });
      }
      this.accounts.push({ name: `bench-${String(i + 1).padStart(4, '0')}`, domains, domainCum: cumulative(domains.map((_, d) => 1 / (d + 1))) });
    }
  }

  get domainCount(): number {
    return this.accounts.reduce((n, a) => n + a.domains.length, 0);
  }

  /** Tasks in created_at order with ids from FIRST_TASK_ID, until `items` items are generated. */
  *tasks(): Generator<TaskSpec> {
    const { opts, r } = this;
    // Choose a task's type with probability ∝ item share / mean task size, so the item mix comes out right.
    const typeWeight = ([t, share]: [SubmitType, number]) => share / (TYPE_MAX[t] === 1 ? 1 : MEAN_TASK_SIZE);
    const typeCum = cumulative(TYPE_ITEM_SHARE.map(typeWeight));
    const expectedTasks = Math.ceil(opts.items * TYPE_ITEM_SHARE.reduce((s, x) => s + typeWeight(x), 0));
    const meanGap = opts.spanMs / expectedTasks;
    let t = opts.end - opts.spanMs;
    let items = 0;
    let uniq = 0;
    const counts: NodeCounts = { total: null, applied: 0, failed: 0 };
    for (let n = 0; items < opts.items; n++) {
      // Poisson arrivals, gently diurnal (±30 %), ending exactly at opts.end.
      const hour = (t / 3_600_000) % 24;
      const rate = 1 + 0.3 * Math.sin(((hour - 8) / 24) * 2 * Math.PI);
      t += (-Math.log(1 - r()) * meanGap) / rate;
      if (t > opts.end) t = opts.end;
      const createdAt = Math.floor(t);
      const account = pick(this.accountCum, r());
      const plan = this.accounts[account];
      const dom = plan.domains[pick(plan.domainCum, r())];
      const type = TYPE_ITEM_SHARE[pick(typeCum, r())][0];
      const size = Math.min(taskSize(r, TYPE_MAX[type]), opts.items - items);
      const force = type !== 'file' && type !== 'preload' && r() < 0.2 ? 1 : 0;
      const area = type === 'preload' && r() < 0.15 ? (r() < 0.8 ? 'domestic' : 'overseas') : null;
      const l2 = type === 'preload' && r() < 0.1 ? 1 : 0;

      // Task outcome: recent work is still in flight, older work has (mostly) finished.
      const age = opts.end - createdAt;
      const u = r();
      const outcome = age < 10 * 60_000
        ? (u < 0.4 ? 'Pending' : u < 0.8 ? 'Refreshing' : 'Complete')
        : (u < 0.965 ? 'Complete' : u < 0.99 ? 'Failed' : u < 0.997 ? 'Refreshing' : 'Pending');
      const nodes = l2 ? Math.max(4, dom.nodes >> 3) : dom.nodes;
      const dirBase = FILE_DIRS[Math.floor(r() * FILE_DIRS.length)];
      const host = dom.scheme + dom.name;
      const out: ItemSpec[] = [];
      for (let k = 0; k < size; k++) {
        let path: string;
        if (type === 'regex') path = `${host}/${dirBase}/.*\\${FILE_EXT[Math.floor(r() * FILE_EXT.length)]}$`;
        else if (type === 'directory') path = `${host}/${dirBase}/${(uniq++).toString(36)}/`;
        else if (r() < 0.2) path = host + HOT_PATHS[Math.floor(r() * HOT_PATHS.length)];
        else path = `${host}/${dirBase}/${new Date(createdAt).toISOString().slice(0, 10).replaceAll('-', '/')}/${(uniq++).toString(36)}${FILE_EXT[Math.floor(r() * FILE_EXT.length)]}`;

        // Per-item node counts, consistent with the task outcome; status always from deriveStatus.
        let description = '';
        if (outcome === 'Pending') (counts.total = null), (counts.applied = 0), (counts.failed = 0);
        else if (outcome === 'Complete') (counts.total = nodes), (counts.applied = nodes), (counts.failed = 0);
        else if (outcome === 'Refreshing') (counts.total = nodes), (counts.applied = Math.floor(r() * nodes)), (counts.failed = 0);
        else if (r() < 0.3) {
          const failed = 1 + Math.floor(r() * 5);
          (counts.total = nodes), (counts.failed = failed), (counts.applied = nodes - failed);
          description = 'InternalError';
        } else (counts.total = nodes), (counts.applied = nodes), (counts.failed = 0);
        out.push({ path, hash: pathHash(path), status: deriveStatus(counts), total: counts.total, applied: counts.applied, failed: counts.failed, description });
      }
      items += size;
      yield { id: FIRST_TASK_ID + n, account, domain: dom.name, type, force, area, l2, createdAt, items: out };
    }
  }
}
