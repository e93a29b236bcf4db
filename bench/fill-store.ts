/**
 * Bulk loader for the describe benchmark: fills a fresh refreshd SQLite store with accounts,
 * root AccessKeys, domains, tasks and items shaped like three days of real traffic.
 *
 * Writes go through the store's own schema (SqliteStore runs the migrations) and its `.raw`
 * better-sqlite3 handle, with prepared statements in large transactions. Tasks get ids from
 * 17000000001 upwards and items are inserted in created_at order with increasing ids, as the
 * server itself would write them.
 */
import { newAccessKeyPair, newAccountUid } from '../src/identity/keys.js';
import { deriveStatus, type NodeCounts } from '../src/domain/progress.js';
import type { SubmitType } from '../src/domain/object-path.js';
import { pathHash } from '../src/store/path-hash.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

export const FIRST_TASK_ID = 17_000_000_001;
const DAY_MS = 86_400_000;

export interface FillOptions {
  file: string;
  items: number;
  accounts: number;
  /** Newest created_at; items span [end - spanMs, end]. */
  end: number;
  spanMs: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface FillResult {
  /** The root AccessKey pair of every account, by account id (the store may keep secrets sealed). */
  keys: { accountId: number; accessKeyId: string; secret: string }[];
  items: number;
  tasks: number;
  accounts: number;
  domains: number;
  ms: number;
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
const TYPE_MAX: Record<SubmitType, number> = { file: 50, directory: 50, regex: 1, preload: 50, ignoreparams: 50 };

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

interface AccountPlan {
  id: number;
  domains: { name: string; nodes: number; scheme: string }[];
  domainCum: Float64Array;
}

export function fillStore(opts: FillOptions): FillResult {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const r = rng(opts.seed ?? 20241123);
  const store = new SqliteStore(opts.file);
  const db = store.raw;
  // Loader-only settings: the file is thrown away if the load fails, so no fsync; a big page
  // cache keeps the five item indexes in memory while rows arrive in time order.
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -6000000');
  db.pragma('temp_store = MEMORY');

  // --- accounts, keys, domains -------------------------------------------------------------
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
  const accountCum = cumulative(raw);

  const plans: AccountPlan[] = [];
  const keys: FillResult['keys'] = [];
  let domainCount = 0;
  const now = Date.now();
  db.transaction(() => {
    const insAccount = db.prepare('INSERT INTO accounts (uid, name, created_at) VALUES (?, ?, ?)');
    // Stores that seal secrets call the column secret_cipher and accept `plain:<secret>` rows
    // (sealed when a vault is first opened); older ones keep the secret as is.
    const sealed = (db.prepare('PRAGMA table_info(access_keys)').all() as { name: string }[]).some((c) => c.name === 'secret_cipher');
    const insKey = db.prepare(`INSERT INTO access_keys (access_key_id, ${sealed ? 'secret_cipher' : 'secret'}, account_id, user_name, active, created_at) VALUES (?, ?, ?, NULL, 1, ?)`);
    const insDomain = db.prepare("INSERT INTO domains (name, account_id, product, origin, online, created_at) VALUES (?, ?, 'cdn', ?, 1, ?)");
    for (let i = 0; i < opts.accounts; i++) {
      const name = `bench-${String(i + 1).padStart(4, '0')}`;
      const id = Number(insAccount.run(newAccountUid(), name, now - 90 * DAY_MS).lastInsertRowid);
      const key = newAccessKeyPair();
      insKey.run(key.accessKeyId, sealed ? `plain:${key.secret}` : key.secret, id, now - 90 * DAY_MS);
      keys.push({ accountId: id, accessKeyId: key.accessKeyId, secret: key.secret });
      // "A couple of domains": 2–4, heavier accounts 5–8.
      const n = raw[i] >= h ? 5 + Math.floor(r() * 4) : 2 + Math.floor(r() * 3);
      const site = `shop${String(i + 1).padStart(4, '0')}.example.com`;
      const domains: AccountPlan['domains'] = [];
      const weights: number[] = [];
      for (let d = 0; d < n; d++) {
        const dn = `${SUBDOMAINS[d % SUBDOMAINS.length]}.${site}`;
        insDomain.run(dn, id, `http://origin.${site}`, now - 90 * DAY_MS);
        domains.push({ name: dn, nodes: 40 + Math.floor(r() * 360), scheme: r() < 0.7 ? 'https://' : 'http://' });
        weights.push(1 / (d + 1)); // first domain busiest
        domainCount++;
      }
      plans.push({ id, domains, domainCum: cumulative(weights) });
    }
  })();

  // --- tasks and items -----------------------------------------------------------------------
  // Choose a task's type with probability ∝ item share / mean task size, so the item mix comes out right.
  const typeCum = cumulative(TYPE_ITEM_SHARE.map(([t, share]) => share / (TYPE_MAX[t] === 1 ? 1 : MEAN_TASK_SIZE)));
  const expectedTasks = Math.ceil(opts.items * TYPE_ITEM_SHARE.reduce((s, [t, share]) => s + share / (TYPE_MAX[t] === 1 ? 1 : MEAN_TASK_SIZE), 0));
  const meanGap = opts.spanMs / expectedTasks;

  const insTask = db.prepare(
    `INSERT INTO tasks (id, account_id, product, domain, object_type, force, area, l2_preload, with_header, item_count, created_at)
     VALUES (?, ?, 'cdn', ?, ?, ?, ?, ?, NULL, ?, ?)`,
  );
  const insItem = db.prepare(
    `INSERT INTO items (task_id, account_id, product, domain, object_type, object_path, path_hash, created_at, status, nodes_total, nodes_applied, nodes_failed, description)
     VALUES (?, ?, 'cdn', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );

  let t = opts.end - opts.spanMs;
  let items = 0;
  let tasks = 0;
  let uniq = 0;
  const CHUNK = 200_000;
  let lastLog = performance.now();
  const counts: NodeCounts = { total: null, applied: 0, failed: 0 };

  const writeChunk = db.transaction((limit: number) => {
    while (items < limit) {
      // Poisson arrivals, gently diurnal (±30 %), ending exactly at opts.end.
      const hour = (t / 3_600_000) % 24;
      const rate = 1 + 0.3 * Math.sin(((hour - 8) / 24) * 2 * Math.PI);
      t += (-Math.log(1 - r()) * meanGap) / rate;
      if (t > opts.end) t = opts.end;
      const createdAt = Math.floor(t);
      const plan = plans[pick(accountCum, r())];
      const dom = plan.domains[pick(plan.domainCum, r())];
      const type = TYPE_ITEM_SHARE[pick(typeCum, r())][0];
      const size = Math.min(taskSize(r, TYPE_MAX[type]), opts.items - items);
      const taskId = FIRST_TASK_ID + tasks;
      const force = type !== 'file' && type !== 'preload' && r() < 0.2 ? 1 : 0;
      const area = type === 'preload' && r() < 0.15 ? (r() < 0.8 ? 'domestic' : 'overseas') : null;
      const l2 = type === 'preload' && r() < 0.1 ? 1 : 0;
      insTask.run(taskId, plan.id, dom.name, type, force, area, l2, size, createdAt);
      tasks++;

      // Task outcome: recent work is still in flight, older work has (mostly) finished.
      const age = opts.end - createdAt;
      const u = r();
      const outcome = age < 10 * 60_000
        ? (u < 0.4 ? 'Pending' : u < 0.8 ? 'Refreshing' : 'Complete')
        : (u < 0.965 ? 'Complete' : u < 0.99 ? 'Failed' : u < 0.997 ? 'Refreshing' : 'Pending');
      const nodes = l2 ? Math.max(4, dom.nodes >> 3) : dom.nodes;
      const dirBase = FILE_DIRS[Math.floor(r() * FILE_DIRS.length)];
      for (let k = 0; k < size; k++) {
        let path: string;
        const host = dom.scheme + dom.name;
        if (type === 'regex') path = `${host}/${dirBase}/.*\\${FILE_EXT[Math.floor(r() * FILE_EXT.length)]}$`;
        else if (type === 'directory') path = `${host}/${dirBase}/${(uniq++).toString(36)}/`;
        else if (r() < 0.2) path = host + HOT_PATHS[Math.floor(r() * HOT_PATHS.length)];
        else path = `${host}/${dirBase}/${new Date(createdAt).toISOString().slice(0, 10).replaceAll('-', '/')}/${(uniq++).toString(36)}${FILE_EXT[Math.floor(r() * FILE_EXT.length)]}`;

        // Per-item node counts, consistent with the task outcome; status always from deriveStatus.
        let desc = '';
        if (outcome === 'Pending') (counts.total = null), (counts.applied = 0), (counts.failed = 0);
        else if (outcome === 'Complete') (counts.total = nodes), (counts.applied = nodes), (counts.failed = 0);
        else if (outcome === 'Refreshing') (counts.total = nodes), (counts.applied = Math.floor(r() * nodes)), (counts.failed = 0);
        else if (r() < 0.3) {
          const failed = 1 + Math.floor(r() * 5);
          (counts.total = nodes), (counts.failed = failed), (counts.applied = nodes - failed);
          desc = 'InternalError';
        } else (counts.total = nodes), (counts.applied = nodes), (counts.failed = 0);
        insItem.run(taskId, plan.id, dom.name, type, path, pathHash(path), createdAt, deriveStatus(counts), counts.total, counts.applied, counts.failed, desc);
        items++;
      }
    }
  });

  while (items < opts.items) {
    writeChunk(Math.min(opts.items, items + CHUNK));
    const nowMs = performance.now();
    if (nowMs - lastLog > 5000 || items === opts.items) {
      lastLog = nowMs;
      const s = (nowMs - started) / 1000;
      log(`  loaded ${items.toLocaleString('en-US')} / ${opts.items.toLocaleString('en-US')} items (${tasks.toLocaleString('en-US')} tasks), ${s.toFixed(0)} s, ${Math.round(items / s).toLocaleString('en-US')} rows/s`);
    }
  }
  log('  checkpointing WAL ...');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const ms = performance.now() - started;
  void store.close();
  return { items, tasks, accounts: opts.accounts, domains: domainCount, ms, keys };
}
