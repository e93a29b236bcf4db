/**
 * Describe/ingest benchmark for refreshd on a large SQLite store.
 *
 *   node --import tsx bench/describe.ts [--items N] [--accounts N] [--data DIR] [--keep] [--reuse]
 *        [--seconds S] [--requests N] [--concurrency C] [--ingest-concurrency C] [--profile DIR]
 *        [--explain] [--no-build] [--with-worker] [--server-root DIR --server-label TEXT]
 *        [--noise-retries N] [--quiet-wait S] [--only TEXT]
 *
 * 1. fills a fresh store (bench/fill-store.ts) or, with --data DIR --reuse, reuses a filled one;
 * 2. starts the real server (`bin/refreshd.js serve`) as a child process on 127.0.0.1;
 * 3. drives it with V1-signed calls over an undici keep-alive Pool (bench/load.ts), one bounded
 *    scenario after another, and checks every answer;
 * 4. prints a table of figures, the machine facts and pass/fail against the targets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { fillStore, rng } from './fill-store.js';
import { machineBusySeconds, procCpuSeconds, run, signV1, type Call, type Credentials, type RunResult } from './load.js';

const DAY_MS = 86_400_000;
const ROOT = resolve(import.meta.dirname, '..');
const NOISY = 0.3;

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '10000000' },
    accounts: { type: 'string', default: '1000' },
    data: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '16' },
    'ingest-concurrency': { type: 'string', default: '4' },
    'ingest-calls': { type: 'string', default: '1000' },
    'latency-seconds': { type: 'string', default: '5' },
    profile: { type: 'string' },
    explain: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    /** Run the server's in-process task worker too (the default of `serve`); off by default to measure the API alone. */
    'with-worker': { type: 'boolean', default: false },
    /** Directory holding bin/refreshd.js and dist/ of the server to measure (default: this checkout). */
    'server-root': { type: 'string' },
    /** What --server-root holds, for the report (e.g. "96442e5 + proposed store fixes"). */
    'server-label': { type: 'string' },
    /** Re-run a scenario (up to N times) when other processes used > 30 % of a core during it. */
    'noise-retries': { type: 'string', default: '2' },
    /** Before each scenario, wait up to this many seconds for other processes to go quiet. */
    'quiet-wait': { type: 'string', default: '60' },
    /** Run only the scenarios whose name contains this text (e.g. "TaskById", "RefreshObjectCaches"). */
    only: { type: 'string' },
    seed: { type: 'string', default: '20241123' },
  },
  strict: true,
});

const ITEMS = Number(args.items);
const ACCOUNTS = Number(args.accounts);
const SECONDS = Number(args.seconds);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const LATENCY_SECONDS = Number(args['latency-seconds']);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (s: string) => process.stdout.write(s + '\n');

const TARGETS = { byIdPerSec: 3000, filteredP99Ms: 10, ingestUrlsPerSec: 50_000 };

async function main() {
  if (args.reuse && !args.data) throw new Error('--reuse needs --data DIR');
  // The loader writes the schema of this checkout's src/; another server build must get a store it knows.
  if (args['server-root'] && !args.reuse) throw new Error('--server-root needs --data DIR --reuse (a store filled for that server)');
  const dataDir = args.data ? resolve(args.data) : mkdtempSync(join(tmpdir(), 'refreshd-bench-'));
  const dbFile = join(dataDir, 'refreshd.db');
  let server: ChildProcess | undefined;
  const cleanup = () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (!args.keep) {
      rmSync(dataDir, { recursive: true, force: true });
      log(`removed ${dataDir} (pass --keep to keep it)`);
    } else log(`kept ${dataDir}`);
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  try {
    // Build first, so the server measured is the source of this moment (others may be editing src/).
    const serverRoot = args['server-root'] ? resolve(args['server-root']) : ROOT;
    if (!args['no-build'] && !args['server-root']) {
      log('building dist/ (npx tsc -p .) ...');
      const b = spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
      if (b.status !== 0) throw new Error('tsc failed; fix the build or pass --no-build');
    }
    const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
    const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() !== '';
    const commit = args['server-root'] ? `${args['server-label'] ?? 'custom build'} from ${serverRoot}` : `${head}${dirty ? '+dirty' : ''}`;
    log(`measuring refreshd ${commit}${dirty && !args['server-root'] ? ' (src/ has uncommitted changes)' : ''}`);

    // ---- 1. data ---------------------------------------------------------------------------
    let load: { ms: number; items: number; tasks: number } | undefined;
    if (args.reuse) {
      if (!existsSync(dbFile)) throw new Error(`--reuse: no store at ${dbFile}`);
      log(`reusing the store at ${dbFile}`);
    } else {
      mkdirSync(dataDir, { recursive: true });
      if (existsSync(dbFile)) throw new Error(`${dbFile} exists; pass --reuse to use it, or pick an empty --data dir`);
      const need = ITEMS * 450; // ~330 B/item measured, plus WAL and headroom
      const fs = statfsSync(dataDir);
      const free = fs.bavail * fs.bsize;
      log(`data dir ${dataDir}: ${(free / 2 ** 30).toFixed(1)} GiB free, ~${(need / 2 ** 30).toFixed(1)} GiB needed`);
      if (free < need) throw new Error('not enough disk space for the store');
      log(`filling ${fmt(ITEMS)} items over ${fmt(ACCOUNTS)} accounts ...`);
      const end = Date.now();
      // Span 3 days minus an hour so every row is still inside the 3-day query window while we measure.
      const r = fillStore({ file: dbFile, items: ITEMS, accounts: ACCOUNTS, end, spanMs: 3 * DAY_MS - 3_600_000, seed: Number(args.seed), log });
      // The key pairs, for --reuse: a store that seals secrets cannot give them back.
      writeFileSync(join(dataDir, 'bench-keys.json'), JSON.stringify(r.keys));
      load = r;
      log(`loaded ${fmt(r.items)} items, ${fmt(r.tasks)} tasks, ${r.accounts} accounts, ${r.domains} domains in ${(r.ms / 1000).toFixed(1)} s (${fmt(r.items / (r.ms / 1000))} rows/s)`);
    }

    // ---- 2. what to ask for ----------------------------------------------------------------
    const facts = sample(dbFile, join(dataDir, 'bench-keys.json'));
    const dbBytes = statSync(dbFile).size;
    log(`store: ${fmt(facts.itemCount)} items, ${fmt(facts.taskCount)} tasks, ${facts.accounts.length} accounts, ${(dbBytes / 2 ** 30).toFixed(2)} GiB; heaviest account ${facts.heaviest.id} with ${fmt(facts.heaviest.items)} items`);
    const ageDays = (Date.now() - facts.oldest) / DAY_MS;
    // The server only shows the last queryWindowDays; widen it when a reused store has aged, so the
    // same rows stay visible (the queries then cover exactly the data set, as on a fresh store).
    // Half an hour of margin covers a full run; a fresh store spans 3 days minus an hour.
    const windowDays = Math.max(3, Math.ceil(ageDays + 0.5 / 24));
    if (windowDays > 3) log(`note: the oldest row is ${ageDays.toFixed(2)} days old; query window widened to ${windowDays} days so all rows stay visible`);

    let sweepMs = NaN;
    // In-process with this checkout's store code: only when that is the code being measured (opening
    // the store runs its migrations).
    if (!args['server-root']) try {
      sweepMs = measureSweep(dbFile, facts.oldest);
      log(`retention sweep with nothing to delete (what the server runs every 10 min): ${sweepMs.toFixed(0)} ms`);
    } catch (err) {
      log(`retention sweep not measured: ${(err as Error).message}`);
    }
    if (args.explain) explain(dbFile, facts);

    // ---- 3. server -------------------------------------------------------------------------
    const configFile = join(dataDir, 'bench-config.json');
    writeFileSync(configFile, JSON.stringify({
      quotas: { cdn: { url: 100_000_000 } },
      perMinutePerDomain: 100_000_000,
      queryWindowDays: windowDays,
      retentionDays: windowDays,
    }, null, 2));
    const port = await freePort();
    const nodeArgs = args.profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(args.profile)] : [];
    const bin = join(serverRoot, 'bin/refreshd.js');
    const help = spawnSync(process.execPath, [bin, 'serve', '--help'], { encoding: 'utf8' }).stdout;
    const workerArgs = !args['with-worker'] && help.includes('--no-worker') ? ['--no-worker'] : [];
    server = spawn(process.execPath, [...nodeArgs, bin, 'serve', '--no-rate-limit', ...workerArgs, '--data', dataDir, '--config', configFile, '--listen', `127.0.0.1:${port}`], {
      cwd: serverRoot,
      env: { ...process.env, REFRESHD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitListening(server);
    log(`server pid ${server.pid} listening on 127.0.0.1:${port} (${['serve', '--no-rate-limit', ...workerArgs].join(' ')})`);

    // ---- 4. scenarios ----------------------------------------------------------------------
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 60_000 });
    const results: Measured[] = [];
    const wanted = (name: string) => !args.only || name.includes(args.only);
    const scenarios = buildScenarios(facts).filter((s) => wanted(s.name));

    // Warm-up: touch every query shape a little (statement cache, SQLite page cache, JIT).
    log('warm-up ...');
    for (const s of scenarios) await run(pool, { name: 'warm', concurrency: 4, maxRequests: 300, maxSeconds: 2, make: s.make });

    // Other sessions share this machine: a run during which other processes took a noticeable
    // share of the CPU is repeated, and the quietest attempt is kept.
    const measure = async (o: Parameters<typeof run>[1]) => {
      let best: RunResult | undefined;
      for (let attempt = 0; attempt <= Number(args['noise-retries']); attempt++) {
        await waitQuiet(Number(args['quiet-wait']), server!.pid!);
        const res = await run(pool, o);
        printRow(res, attempt);
        if (!best || (res.otherCpu ?? 0) < (best.otherCpu ?? 0)) best = res;
        if ((res.otherCpu ?? 0) <= NOISY) break;
      }
      return best!;
    };
    for (const s of scenarios) {
      const res = await measure({ name: s.name, concurrency: CONCURRENCY, maxRequests: REQUESTS, maxSeconds: SECONDS, make: s.make, serverPid: server.pid });
      results.push({ ...res, group: s.group, filtered: !!s.filtered });
    }
    // Latency without queueing: one request in flight (service time + loopback round trip).
    for (const s of scenarios.filter((x) => x.group === 'list' || x.group === 'byid')) {
      const res = await measure({ name: `${s.name} [c=1]`, concurrency: 1, maxRequests: REQUESTS, maxSeconds: LATENCY_SECONDS, make: s.make, serverPid: server.pid });
      results.push({ ...res, group: `${s.group}-c1`, filtered: !!s.filtered });
    }
    // Ingest last: it adds rows (removed again below when the store is kept, so --reuse sees the same data).
    const before = highWater(dbFile);
    const ingestCalls = Number(args['ingest-calls']);
    if (wanted('RefreshObjectCaches 1000 URLs/call')) {
      const ingest = await measure({
        name: 'RefreshObjectCaches 1000 URLs/call', concurrency: Number(args['ingest-concurrency']), maxRequests: ingestCalls, maxSeconds: SECONDS,
        make: ingestCall(facts), serverPid: server.pid,
      });
      results.push({ ...ingest, group: 'ingest', filtered: false });
    }
    await pool.close();

    // ---- 5. stop the server ----------------------------------------------------------------
    if (server.exitCode === null) {
      const exited = new Promise((res) => server!.once('exit', res));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    } else log(`the server exited early (code ${server.exitCode})`);
    if (args.profile) log(`server CPU profile written to ${resolve(args.profile)}`);
    if (args.keep) {
      const t0 = performance.now();
      const removed = removeAbove(dbFile, before);
      log(`removed the ${fmt(removed)} ingested items again (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }

    // ---- 6. report -------------------------------------------------------------------------
    report(results, { load, facts, dbBytes, sweepMs, windowDays, commit, serverArgs: ['serve', '--no-rate-limit', ...workerArgs].join(' ') });
    const failed = results.some((x) => x.errors > 0 || x.mismatches > 0);
    if (failed) process.exitCode = 1;
  } finally {
    cleanup();
  }
}

// ------------------------------------------------------------------------------------------------

interface AccountFacts {
  id: number;
  cred: Credentials;
  domains: string[];
  items: number;
  tasks: number[];
}
interface SampleItem {
  accountId: number;
  taskId: string;
  path: string;
  domain: string;
  type: string;
}
interface Facts {
  accounts: AccountFacts[];
  byId: Map<number, AccountFacts>;
  samples: SampleItem[];
  heaviest: AccountFacts;
  itemCount: number;
  taskCount: number;
  oldest: number;
}

/** Read what the load generator needs (keys, domains, task ids, a sample of items) from the store. */
function sample(file: string, keysFile: string): Facts {
  const db = new Database(file, { readonly: true });
  try {
    const accounts = new Map<number, AccountFacts>();
    let keys: { accountId: number; accessKeyId: string; secret: string }[];
    if (existsSync(keysFile)) keys = JSON.parse(readFileSync(keysFile, 'utf8'));
    else {
      // A store filled before bench-keys.json existed: secrets in the clear or as `plain:` rows.
      const col = (db.prepare('PRAGMA table_info(access_keys)').all() as { name: string }[]).some((c) => c.name === 'secret_cipher') ? 'secret_cipher' : 'secret';
      keys = (db.prepare(`SELECT k.account_id, k.access_key_id, k.${col} AS s FROM accounts a JOIN access_keys k ON k.account_id = a.id WHERE a.name LIKE 'bench-%' AND k.user_name IS NULL AND k.active = 1`).all() as { account_id: number; access_key_id: string; s: string }[])
        .map((k) => ({ accountId: k.account_id, accessKeyId: k.access_key_id, secret: k.s.startsWith('plain:') ? k.s.slice(6) : k.s }));
      if (col === 'secret_cipher' && keys.some((k) => k.secret.includes(':'))) throw new Error('the store has sealed the bench keys and there is no bench-keys.json; fill a new store');
    }
    for (const k of keys) if (!accounts.has(k.accountId)) accounts.set(k.accountId, { id: k.accountId, cred: { accessKeyId: k.accessKeyId, secret: k.secret }, domains: [], items: 0, tasks: [] });
    for (const d of db.prepare('SELECT name, account_id FROM domains ORDER BY name').all() as { name: string; account_id: number }[]) accounts.get(d.account_id)?.domains.push(d.name);
    let taskCount = 0;
    for (const t of db.prepare("SELECT id, account_id, item_count FROM tasks WHERE product = 'cdn'").raw().iterate() as Iterable<[number, number, number]>) {
      const a = accounts.get(t[1]);
      if (!a) continue;
      a.tasks.push(t[0]);
      a.items += t[2];
      taskCount++;
    }
    const { lo, hi, n } = db.prepare('SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM items').get() as { lo: number; hi: number; n: number };
    const oldest = (db.prepare('SELECT min(created_at) AS m FROM tasks').get() as { m: number }).m;
    // A uniform sample of items: accounts then come up in proportion to their traffic.
    const r = rng(7);
    const one = db.prepare('SELECT account_id, task_id, object_path, domain, object_type FROM items WHERE id >= ? ORDER BY id LIMIT 1');
    const samples: SampleItem[] = [];
    for (let i = 0; i < 20_000; i++) {
      const row = one.get(lo + Math.floor(r() * (hi - lo + 1))) as { account_id: number; task_id: number; object_path: string; domain: string; object_type: string } | undefined;
      if (row && accounts.has(row.account_id)) samples.push({ accountId: row.account_id, taskId: String(row.task_id), path: row.object_path, domain: row.domain, type: row.object_type });
    }
    const list = [...accounts.values()];
    const heaviest = list.reduce((a, b) => (b.items > a.items ? b : a));
    return { accounts: list, byId: accounts, samples, heaviest, itemCount: n, taskCount, oldest };
  } finally {
    db.close();
  }
}

function highWater(file: string): { item: number; task: number } {
  const db = new Database(file, { readonly: true });
  try {
    const item = (db.prepare('SELECT max(id) AS m FROM items').get() as { m: number }).m;
    const task = (db.prepare('SELECT max(id) AS m FROM tasks').get() as { m: number }).m;
    return { item, task };
  } finally {
    db.close();
  }
}

function removeAbove(file: string, hw: { item: number; task: number }): number {
  const db = new Database(file);
  try {
    return db.transaction(() => {
      const n = db.prepare('DELETE FROM items WHERE id > ?').run(hw.item).changes;
      db.prepare('DELETE FROM tasks WHERE id > ?').run(hw.task);
      db.prepare('DELETE FROM usage_counters').run();
      db.prepare('DELETE FROM node_attempts WHERE item_id > ?').run(hw.item);
      return n;
    })();
  } finally {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
}

/** Time the store's retention sweep when nothing is old enough to delete. */
function measureSweep(file: string, oldest: number): number {
  const store = new SqliteStore(file);
  try {
    const t0 = performance.now();
    void store.sweep(oldest - 1, Date.now());
    return performance.now() - t0;
  } finally {
    void store.close();
  }
}

function explain(file: string, facts: Facts) {
  const db = new Database(file, { readonly: true });
  const a = facts.heaviest;
  const w = 'account_id = ? AND product = ? AND created_at BETWEEN ? AND ?';
  const base = [a.id, 'cdn', 0, Date.now()];
  const shapes: [string, string, unknown[]][] = [
    ['unfiltered', `${w}`, base],
    ['type+status', `${w} AND object_type = ? AND status = ?`, [...base, 'file', 'Complete']],
    ['domain+type', `${w} AND object_type = ? AND domain IN (?)`, [...base, 'file', a.domains[0]]],
    ['path', `${w} AND path_hash = ? AND object_path = ?`, [...base, 1, 'x']],
    ['taskid', `${w} AND task_id = ?`, [...base, a.tasks[0]]],
  ];
  for (const [name, where, params] of shapes) {
    for (const sql of [`SELECT count(*) AS n FROM items WHERE ${where}`, `SELECT * FROM items WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 0`]) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      const t0 = performance.now();
      db.prepare(sql).all(...params);
      const ms = performance.now() - t0;
      log(`  [${name}] ${sql.startsWith('SELECT count') ? 'count' : 'page '} ${ms.toFixed(2)} ms: ${plan.map((p) => p.detail).join(' | ')}`);
    }
  }
  db.close();
}

interface Scenario {
  name: string;
  group: 'byid' | 'list';
  /** A DescribeRefreshTasks call with a filter (the p99 target); paging alone is reported apart. */
  filtered?: boolean;
  make: () => Call;
}

function buildScenarios(facts: Facts): Scenario[] {
  const r = rng(99);
  const item = () => facts.samples[Math.floor(r() * facts.samples.length)];
  const get = (a: AccountFacts, action: string, params: Record<string, string>, check?: (j: any) => boolean): Call => ({
    method: 'GET', path: '/?' + signV1('GET', action, params, a.cred), check,
  });
  const rows = (j: any): any[] => j?.Tasks?.CDNTask ?? [];
  const nonEmpty = (j: any) => rows(j).length > 0;
  const answered = (j: any) => typeof j?.TotalCount === 'number';
  const typeOf = () => {
    const u = r();
    return u < 0.6 ? 'file' : u < 0.7 ? 'directory' : u < 0.72 ? 'regex' : 'preload';
  };
  const statusOf = () => {
    const u = r();
    return u < 0.5 ? 'Complete' : u < 0.7 ? 'Failed' : u < 0.85 ? 'Refreshing' : 'Pending';
  };
  const lastPage = (a: AccountFacts) => Math.max(1, Math.ceil(a.items / 100));
  return [
    {
      name: 'DescribeRefreshTaskById, 1 id', group: 'byid',
      make: () => {
        const s = item();
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTaskById', { TaskId: s.taskId }, (j) => j.Tasks?.length > 0 && j.Tasks[0].TaskId === s.taskId);
      },
    },
    {
      name: 'DescribeRefreshTaskById, 10 ids', group: 'byid',
      make: () => {
        let a: AccountFacts;
        do a = facts.byId.get(item().accountId)!;
        while (a.tasks.length < 10);
        const ids = new Set<number>();
        while (ids.size < 10) ids.add(a.tasks[Math.floor(r() * a.tasks.length)]);
        return get(a, 'DescribeRefreshTaskById', { TaskId: [...ids].join(',') }, (j) => new Set(j.Tasks?.map((t: any) => t.TaskId)).size === 10);
      },
    },
    {
      name: 'DescribeRefreshTasks, unfiltered page 1', group: 'list',
      make: () => get(facts.byId.get(item().accountId)!, 'DescribeRefreshTasks', {}, nonEmpty),
    },
    {
      name: 'DescribeRefreshTasks, ObjectType+Status', group: 'list', filtered: true,
      make: () => get(facts.byId.get(item().accountId)!, 'DescribeRefreshTasks', { ObjectType: typeOf(), Status: statusOf() }, answered),
    },
    {
      name: 'DescribeRefreshTasks, ObjectType only', group: 'list', filtered: true,
      make: () => get(facts.byId.get(item().accountId)!, 'DescribeRefreshTasks', { ObjectType: typeOf() }, answered),
    },
    {
      name: 'DescribeRefreshTasks, DomainName+ObjectType', group: 'list', filtered: true,
      make: () => {
        const s = item();
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { DomainName: s.domain, ObjectType: s.type }, nonEmpty);
      },
    },
    {
      name: 'DescribeRefreshTasks, ObjectPath', group: 'list', filtered: true,
      make: () => {
        const s = item();
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { ObjectPath: s.path }, (j) => rows(j).some((x) => x.ObjectPath === s.path));
      },
    },
    {
      name: 'DescribeRefreshTasks, TaskId', group: 'list', filtered: true,
      make: () => {
        const s = item();
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { TaskId: s.taskId }, (j) => rows(j).length > 0 && rows(j).every((x) => x.TaskId === s.taskId));
      },
    },
    {
      name: 'DescribeRefreshTasks, near-last page (size 100)', group: 'list',
      make: () => {
        const a = facts.byId.get(item().accountId)!;
        const page = Math.max(1, lastPage(a) - Math.floor(r() * 3));
        return get(a, 'DescribeRefreshTasks', { PageSize: '100', PageNumber: String(page) }, nonEmpty);
      },
    },
    {
      name: `DescribeRefreshTasks, heaviest acct last page (${fmt(lastPage(facts.heaviest))})`, group: 'list',
      make: () => get(facts.heaviest, 'DescribeRefreshTasks', { PageSize: '100', PageNumber: String(lastPage(facts.heaviest)) }, nonEmpty),
    },
  ];
}

function ingestCall(facts: Facts): () => Call {
  const r = rng(4242);
  const run = Date.now().toString(36);
  let n = 0;
  return () => {
    const a = facts.byId.get(facts.samples[Math.floor(r() * facts.samples.length)].accountId)!;
    const domain = a.domains[0];
    const urls: string[] = [];
    for (let i = 0; i < 1000; i++) urls.push(`https://${domain}/bench/ingest/${run}/${(n++).toString(36)}.jpg`);
    const body = signV1('POST', 'RefreshObjectCaches', { ObjectType: 'File', ObjectPath: urls.join('\n') }, a.cred);
    return { method: 'POST', path: '/', body, units: 1000, check: (j) => typeof j.RefreshTaskId === 'string' && j.RefreshTaskId.length > 0 };
  };
}

// ------------------------------------------------------------------------------------------------

/** Wait (at most `seconds`) until, over one second, other processes use < 20 % of a core. */
async function waitQuiet(seconds: number, serverPid: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  let waited = false;
  while (Date.now() < until) {
    const b0 = machineBusySeconds();
    const s0 = procCpuSeconds(serverPid);
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const b1 = machineBusySeconds();
    const s1 = procCpuSeconds(serverPid);
    const c = process.cpuUsage(c0);
    if (b0 === undefined || b1 === undefined || s0 === undefined || s1 === undefined) return;
    const other = b1 - b0 - (s1 - s0) - (c.user + c.system) / 1e6;
    if (other < 0.2) {
      if (waited) log('  (machine quiet again)');
      return;
    }
    if (!waited) log(`  waiting for other processes to quiet down (using ${Math.round(other * 100)}% of a core) ...`);
    waited = true;
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function waitListening(child: ChildProcess): Promise<void> {
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server did not start in 60 s; output: ${out}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('listening on')) {
        clearTimeout(timer);
        res();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before listening; output: ${out}`));
    });
  });
}

const ms = (x: number) => (Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));

function printRow(x: RunResult, attempt = 0) {
  const noisy = (x.otherCpu ?? 0) > NOISY ? `  [noisy: other processes used ${Math.round((x.otherCpu ?? 0) * 100)}% of a core${attempt < Number(args['noise-retries']) ? '; repeating' : ''}]` : '';
  const extra = x.errors || x.mismatches ? `  ERRORS ${x.errors} MISMATCHES ${x.mismatches}: ${x.firstError}` : '';
  log(`  ${x.name.padEnd(58)} c=${String(x.concurrency).padStart(2)} ${fmt(x.requests).padStart(7)} req ${fmt(x.rps).padStart(6)}/s  p50 ${ms(x.p50).padStart(6)}  p99 ${ms(x.p99).padStart(6)} ms  server CPU ${x.serverCpu === undefined ? '?' : Math.round(x.serverCpu * 100) + '%'}, client ${Math.round(x.clientCpu * 100)}%, other ${x.otherCpu === undefined ? '?' : Math.round(x.otherCpu * 100) + '%'}${extra}${noisy}`);
}

type Measured = RunResult & { group: string; filtered: boolean };

function report(results: Measured[], ctx: { load?: { ms: number; items: number; tasks: number }; facts: Facts; dbBytes: number; sweepMs: number; windowDays: number; commit: string; serverArgs: string }) {
  const line = '-'.repeat(132);
  log('\n' + line);
  log('machine');
  log(`  refreshd ${ctx.commit} (${ctx.serverArgs}); bench concurrency ${CONCURRENCY}, ${SECONDS} s or ${fmt(REQUESTS)} requests per scenario; srv CPU / other = cores used by the server / by other processes`);
  log(`  nproc ${cpus().length} (${cpus()[0]?.model ?? '?'}), RAM ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, SQLite ${sqliteVersion()}`);
  log(`  items ${fmt(ctx.facts.itemCount)}, tasks ${fmt(ctx.facts.taskCount)}, accounts ${ctx.facts.accounts.length}, heaviest account ${fmt(ctx.facts.heaviest.items)} items, db file ${(ctx.dbBytes / 2 ** 30).toFixed(2)} GiB, query window ${ctx.windowDays} d`);
  if (ctx.load) log(`  load: ${fmt(ctx.load.items)} items + ${fmt(ctx.load.tasks)} tasks in ${(ctx.load.ms / 1000).toFixed(1)} s = ${fmt(ctx.load.items / (ctx.load.ms / 1000))} rows/s`);
  log(`  retention sweep (no rows to delete): ${Number.isNaN(ctx.sweepMs) ? 'not measured' : ctx.sweepMs.toFixed(0) + ' ms'}`);
  log(line);
  log(`| ${'scenario'.padEnd(58)} | conc | requests | req/s  | p50 ms | p90 ms | p99 ms | max ms | srv CPU | other | errors |`);
  log(`|${'-'.repeat(60)}|------|----------|--------|--------|--------|--------|--------|---------|-------|--------|`);
  for (const x of results) {
    const name = x.group === 'ingest' ? `${x.name} (${fmt(x.unitsPerSec)} URLs/s)` : x.name;
    log(`| ${name.padEnd(58)} | ${String(x.concurrency).padStart(4)} | ${fmt(x.requests).padStart(8)} | ${fmt(x.rps).padStart(6)} | ${ms(x.p50).padStart(6)} | ${ms(x.p90).padStart(6)} | ${ms(x.p99).padStart(6)} | ${ms(x.max).padStart(6)} | ${(x.serverCpu === undefined ? '?' : Math.round(x.serverCpu * 100) + '%').padStart(7)} | ${(x.otherCpu === undefined ? '?' : Math.round(x.otherCpu * 100) + '%').padStart(5)} | ${String(x.errors + x.mismatches).padStart(6)} |`);
  }
  log(line);
  log('targets');
  const pf = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const worst = (xs: Measured[]) => xs.reduce((a, b) => (b.p99 > a.p99 ? b : a));
  for (const x of results.filter((r) => r.group === 'byid')) {
    log(`  ${pf(x.rps >= TARGETS.byIdPerSec)}  ${x.name} >= ${fmt(TARGETS.byIdPerSec)}/s at c=${x.concurrency}: ${fmt(x.rps)}/s`);
  }
  for (const [label, group] of [[`c=${CONCURRENCY}`, 'list'], ['c=1', 'list-c1']] as const) {
    const xs = results.filter((r) => r.group === group && r.filtered);
    if (xs.length === 0) continue;
    const w = worst(xs);
    log(`  ${pf(w.p99 <= TARGETS.filteredP99Ms)}  filtered DescribeRefreshTasks p99 <= ${TARGETS.filteredP99Ms} ms at ${label}: worst ${ms(w.p99)} ms (${w.name})`);
  }
  for (const [label, group] of [[`c=${CONCURRENCY}`, 'list'], ['c=1', 'list-c1']] as const) {
    const xs = results.filter((r) => r.group === group && !r.filtered);
    if (xs.length === 0) continue;
    const w = worst(xs);
    log(`  (info) ${w.p99 <= TARGETS.filteredP99Ms ? 'within' : 'over  '} ${TARGETS.filteredP99Ms} ms: unfiltered/paging DescribeRefreshTasks p99 at ${label}: worst ${ms(w.p99)} ms (${w.name})`);
  }
  const ingest = results.find((x) => x.group === 'ingest');
  if (ingest) log(`  ${pf(ingest.unitsPerSec >= TARGETS.ingestUrlsPerSec)}  RefreshObjectCaches >= ${fmt(TARGETS.ingestUrlsPerSec)} URLs/s accepted: ${fmt(ingest.unitsPerSec)} URLs/s`);
  const bad = results.filter((x) => x.errors > 0 || x.mismatches > 0);
  if (bad.length) {
    log(`  RUN HAD ERRORS in ${bad.length} scenario(s):`);
    for (const x of bad) log(`    ${x.name}: ${x.errors} errors, ${x.mismatches} mismatches; first: ${x.firstError}`);
  } else log('  every answer was HTTP 200 with the expected content');
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  const v = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  return v;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
