/**
 * SQL-level companion of bench/describe.ts: times the statements the SQLite store runs for the
 * Describe* actions, directly on a filled store file, next to proposed alternatives, and prints
 * each one's query plan. Used to diagnose the figures of docs/benchmarks.md.
 *
 *   node --import tsx bench/queries.ts --db FILE [--samples N] [--add-indexes] [--analyze]
 *
 * The "current" SQL is copied from src/store/sqlite/sqlite-store.ts (queryItems, itemsOfTasks).
 * --add-indexes and --analyze WRITE to the file: use them on a copy of a store, never a live one.
 */
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { pathHash } from '../src/store/path-hash.js';
import { rng } from './dataset.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    samples: { type: 'string', default: '300' },
    'add-indexes': { type: 'boolean', default: false },
    analyze: { type: 'boolean', default: false },
    only: { type: 'string' },
    /** PRAGMA mmap_size in MiB (0: off, as the server runs today). */
    mmap: { type: 'string', default: '0' },
    /** PRAGMA cache_size in MiB (64: as the server). */
    cache: { type: 'string', default: '64' },
  },
});
if (!args.db) throw new Error('--db FILE is required');

const PROPOSED_INDEXES = [
  // DomainName always comes with ObjectType (MissingParameter.ObjectType otherwise): index both, then time; status rides along for Status.
  // `id` before `status` keeps the index in ORDER BY created_at DESC, id DESC order (no sort step).
  'CREATE INDEX IF NOT EXISTS items_account_domain_type ON items(account_id, product, domain, object_type, created_at, id, status)',
  // An alternative explored for ObjectType without Status (not proposed: the status IN (...) rewrite needs no new index).
  'CREATE INDEX IF NOT EXISTS items_account_type_time ON items(account_id, product, object_type, created_at, status)',
];

const db = new Database(args.db, { readonly: !args['add-indexes'] && !args.analyze });
db.pragma(`cache_size = -${Number(args.cache) * 1024}`); // server: 64 MiB
db.pragma(`mmap_size = ${Number(args.mmap) * 1024 * 1024}`); // server: 0 (no mmap)
console.log(`cache_size ${args.cache} MiB, mmap_size ${args.mmap} MiB`);
if (args['add-indexes']) {
  for (const sql of PROPOSED_INDEXES) {
    const t0 = performance.now();
    db.exec(sql);
    console.log(`${sql}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
if (args.analyze) {
  const t0 = performance.now();
  db.pragma('analysis_limit = 1000');
  db.exec('ANALYZE');
  console.log(`ANALYZE (analysis_limit=1000): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const hasIndex = (name: string) => !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(name);

// ---- what to ask for ------------------------------------------------------------------------
const r = rng(11);
const { lo, hi } = db.prepare('SELECT min(id) AS lo, max(id) AS hi FROM items').get() as { lo: number; hi: number };
const one = db.prepare('SELECT id, account_id, task_id, object_path, domain, object_type FROM items WHERE id >= ? ORDER BY id LIMIT 1');
type Item = { id: number; account_id: number; task_id: number; object_path: string; domain: string; object_type: string };
const samples: Item[] = [];
for (let i = 0; i < Number(args.samples); i++) samples.push(one.get(lo + Math.floor(r() * (hi - lo + 1))) as Item);
const heavy = db.prepare('SELECT account_id AS a, sum(item_count) AS n FROM tasks GROUP BY account_id ORDER BY n DESC LIMIT 1').get() as { a: number; n: number };
const heavyItems = samples.filter((s) => s.account_id === heavy.a);
const heavySample = (db.prepare('SELECT id, account_id, task_id, object_path, domain, object_type FROM items WHERE account_id = ? ORDER BY id DESC LIMIT 1').get(heavy.a) as Item);
const tasksOf = db.prepare('SELECT id FROM tasks WHERE account_id = ? ORDER BY random() LIMIT 10');
const from = 0;
const to = Date.now() + 86_400_000;
const statuses = ['Complete', 'Failed', 'Refreshing', 'Pending'];
const types = ['file', 'directory', 'regex', 'preload'];

const COLS = 'task_id, object_path, object_type, domain, created_at, nodes_total, nodes_applied, nodes_failed, description';
const W = 'account_id = ? AND product = ? AND created_at BETWEEN ? AND ?';
/** `+col` keeps a term out of index selection (it is still checked), steering the planner. */
const W_NOIDX = '+account_id = ? AND +product = ? AND +created_at BETWEEN ? AND ?';

interface Variant {
  name: string;
  sql: string;
  params: (s: Item) => unknown[];
  needs?: string;
}
interface Case {
  name: string;
  variants: Variant[];
  /** Also time it for the heaviest account. */
  heavy?: boolean;
}

const page = (where: string, extra = 'LIMIT 20 OFFSET 0') => `SELECT ${COLS} FROM items WHERE ${where} ORDER BY created_at DESC, id DESC ${extra}`;
const count = (where: string) => `SELECT count(*) AS n FROM items WHERE ${where}`;
const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
const base = (s: Item) => [s.account_id, 'cdn', from, to];
const ids10 = (s: Item) => (tasksOf.all(s.account_id) as { id: number }[]).map((t) => t.id);

const cases: Case[] = [
  {
    name: 'ById, 1 id (itemsOfTasks)', heavy: true,
    variants: [
      { name: 'current', sql: `SELECT ${COLS} FROM items WHERE task_id IN (?) AND account_id = ? AND product = ? AND created_at >= ? ORDER BY task_id, id`, params: (s) => [s.task_id, s.account_id, 'cdn', from] },
      { name: '+account_id/+product/+created_at', sql: `SELECT ${COLS} FROM items WHERE task_id IN (?) AND +account_id = ? AND +product = ? AND +created_at >= ? ORDER BY task_id, id`, params: (s) => [s.task_id, s.account_id, 'cdn', from] },
    ],
  },
  {
    name: 'ById, 10 ids (itemsOfTasks)', heavy: true,
    variants: [
      { name: 'current', sql: `SELECT ${COLS} FROM items WHERE task_id IN (${'?,'.repeat(9)}?) AND account_id = ? AND product = ? AND created_at >= ? ORDER BY task_id, id`, params: (s) => [...ids10(s), s.account_id, 'cdn', from] },
      { name: '+account_id/+product/+created_at', sql: `SELECT ${COLS} FROM items WHERE task_id IN (${'?,'.repeat(9)}?) AND +account_id = ? AND +product = ? AND +created_at >= ? ORDER BY task_id, id`, params: (s) => [...ids10(s), s.account_id, 'cdn', from] },
    ],
  },
  {
    name: 'List: unfiltered page 1 (count + page)', heavy: true,
    variants: [
      { name: 'count (current)', sql: count(W), params: base },
      { name: 'page (current)', sql: page(W), params: base },
    ],
  },
  {
    name: 'List: TaskId', heavy: true,
    variants: [
      { name: 'count (current)', sql: count(`${W} AND task_id = ?`), params: (s) => [...base(s), s.task_id] },
      { name: 'page (current)', sql: page(`${W} AND task_id = ?`), params: (s) => [...base(s), s.task_id] },
      { name: 'count, + on window terms', sql: count(`${W_NOIDX} AND task_id = ?`), params: (s) => [...base(s), s.task_id] },
      { name: 'page, + on window terms', sql: page(`${W_NOIDX} AND task_id = ?`), params: (s) => [...base(s), s.task_id] },
    ],
  },
  {
    name: 'List: ObjectPath', heavy: true,
    variants: [
      { name: 'count (current)', sql: count(`${W} AND path_hash = ? AND object_path = ?`), params: (s) => [...base(s), pathHash(s.object_path), s.object_path] },
      { name: 'page (current)', sql: page(`${W} AND path_hash = ? AND object_path = ?`), params: (s) => [...base(s), pathHash(s.object_path), s.object_path] },
      { name: 'count, +product/+created_at', sql: count(`account_id = ? AND +product = ? AND +created_at BETWEEN ? AND ? AND path_hash = ? AND object_path = ?`), params: (s) => [...base(s), pathHash(s.object_path), s.object_path] },
      { name: 'page, +product/+created_at', sql: page(`account_id = ? AND +product = ? AND +created_at BETWEEN ? AND ? AND path_hash = ? AND object_path = ?`), params: (s) => [...base(s), pathHash(s.object_path), s.object_path] },
    ],
  },
  {
    name: 'List: ObjectType+Status', heavy: true,
    variants: [
      { name: 'count (current)', sql: count(`${W} AND object_type = ? AND status = ?`), params: (s) => [...base(s), pick(types), pick(statuses)] },
      { name: 'page (current)', sql: page(`${W} AND object_type = ? AND status = ?`), params: (s) => [...base(s), pick(types), pick(statuses)] },
      { name: 'count, file+Complete (largest)', sql: count(`${W} AND object_type = ? AND status = ?`), params: (s) => [...base(s), 'file', 'Complete'] },
      { name: 'page, file+Complete (largest)', sql: page(`${W} AND object_type = ? AND status = ?`), params: (s) => [...base(s), 'file', 'Complete'] },
      { name: 'page, file+Failed (rare)', sql: page(`${W} AND object_type = ? AND status = ?`), params: (s) => [...base(s), 'file', 'Failed'] },
      { name: 'page, INDEXED BY items_account_type', sql: page(`${W} AND object_type = ? AND status = ?`).replace('FROM items', 'FROM items INDEXED BY items_account_type'), params: (s) => [...base(s), pick(types), pick(statuses)] },
      { name: 'page, file+Failed, INDEXED BY items_account_type', sql: page(`${W} AND object_type = ? AND status = ?`).replace('FROM items', 'FROM items INDEXED BY items_account_type'), params: (s) => [...base(s), 'file', 'Failed'] },
    ],
  },
  {
    name: 'List: ObjectType only', heavy: true,
    variants: [
      { name: 'count (current)', sql: count(`${W} AND object_type = ?`), params: (s) => [...base(s), pick(types)] },
      { name: 'count, + status IN (all four)', sql: count(`${W} AND object_type = ? AND status IN ('Complete','Failed','Refreshing','Pending')`), params: (s) => [...base(s), pick(types)] },
      { name: 'count, type-time index', sql: count(`${W} AND object_type = ?`).replace('FROM items', 'FROM items INDEXED BY items_account_type_time'), params: (s) => [...base(s), pick(types)], needs: 'items_account_type_time' },
      { name: 'page (current)', sql: page(`${W} AND object_type = ?`), params: (s) => [...base(s), pick(types)] },
      { name: 'page, regex (current)', sql: page(`${W} AND object_type = ?`), params: (s) => [...base(s), 'regex'] },
      { name: 'page, regex, type-time index', sql: page(`${W} AND object_type = ?`).replace('FROM items', 'FROM items INDEXED BY items_account_type_time'), params: (s) => [...base(s), 'regex'], needs: 'items_account_type_time' },
      { name: 'page, file (current)', sql: page(`${W} AND object_type = ?`), params: (s) => [...base(s), 'file'] },
      { name: 'page, file, type-time index', sql: page(`${W} AND object_type = ?`).replace('FROM items', 'FROM items INDEXED BY items_account_type_time'), params: (s) => [...base(s), 'file'], needs: 'items_account_type_time' },
    ],
  },
  {
    name: 'List: DomainName+ObjectType', heavy: true,
    variants: [
      { name: 'count (current)', sql: count(`${W} AND object_type = ? AND domain IN (?)`), params: (s) => [...base(s), s.object_type, s.domain] },
      { name: 'page (current)', sql: page(`${W} AND object_type = ? AND domain IN (?)`), params: (s) => [...base(s), s.object_type, s.domain] },
      { name: 'count, domain-type index', sql: count(`${W} AND object_type = ? AND domain IN (?)`).replace('FROM items', 'FROM items INDEXED BY items_account_domain_type'), params: (s) => [...base(s), s.object_type, s.domain], needs: 'items_account_domain_type' },
      { name: 'page, domain-type index', sql: page(`${W} AND object_type = ? AND domain IN (?)`).replace('FROM items', 'FROM items INDEXED BY items_account_domain_type'), params: (s) => [...base(s), s.object_type, s.domain], needs: 'items_account_domain_type' },
    ],
  },
  {
    name: 'List: last page, size 100 (count + page)', heavy: true,
    variants: [
      { name: 'count (current)', sql: count(W), params: base },
      {
        name: 'page (current)', sql: page(W, 'LIMIT 100 OFFSET ?'),
        params: (s) => {
          const n = (db.prepare(count(W)).get(...base(s)) as { n: number }).n;
          return [...base(s), Math.max(0, Math.floor((n - 1) / 100) * 100)];
        },
      },
      {
        // The last page read from the other end: OFFSET counts from the oldest row, then the
        // handful of rows is reversed in JS. Costs what page 1 costs.
        name: 'page, reversed scan', sql: `SELECT ${COLS} FROM items WHERE ${W} ORDER BY created_at ASC, id ASC LIMIT ? OFFSET ?`,
        params: (s) => {
          const n = (db.prepare(count(W)).get(...base(s)) as { n: number }).n;
          const offset = Math.max(0, Math.floor((n - 1) / 100) * 100);
          const limit = Math.min(100, n - offset);
          return [...base(s), limit, n - offset - limit];
        },
      },
    ],
  },
];

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] };
}
const f = (x: number) => (x < 10 ? x.toFixed(3) : x.toFixed(1));

console.log(`store ${args.db}: items ${lo}..${hi}; heaviest account ${heavy.a} (${heavy.n} items; ${heavyItems.length} of ${samples.length} samples)`);
console.log(`| case | variant | plan | mean ms | p50 ms | p99 ms | max ms | heaviest acct ms |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const c of cases) {
  if (args.only && !c.name.includes(args.only)) continue;
  for (const v of c.variants) {
    if (v.needs && !hasIndex(v.needs)) continue;
    const stmt = db.prepare(v.sql);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${v.sql}`).all(...v.params(samples[0])) as { detail: string }[]).map((p) => p.detail).join('; ');
    const times: number[] = [];
    for (const s of samples) {
      const p = v.params(s);
      const t0 = performance.now();
      stmt.all(...p);
      times.push(performance.now() - t0);
    }
    let heavyMs = NaN;
    if (c.heavy) {
      const p = v.params(heavySample);
      stmt.all(...p); // warm
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) stmt.all(...p);
      heavyMs = (performance.now() - t0) / 5;
    }
    const st = stats(times);
    console.log(`| ${c.name} | ${v.name} | ${plan.replace(/\|/g, '/')} | ${f(st.mean)} | ${f(st.p50)} | ${f(st.p99)} | ${f(st.max)} | ${Number.isNaN(heavyMs) ? '-' : f(heavyMs)} |`);
  }
}
db.close();
