/**
 * Describe/ingest benchmark for refreshd on a large store, SQLite (default) or PostgreSQL.
 *
 *   node --import tsx bench/describe.ts [--store sqlite|postgres] [--api-processes N[,M…]]
 *        [--items N] [--accounts N] [--data DIR] [--keep] [--reuse] [--pg-url URL] [--retention]
 *        [--seconds S] [--requests N] [--concurrency C] [--ingest-concurrency C] [--profile DIR]
 *        [--explain] [--no-build] [--with-worker] [--server-root DIR --server-label TEXT]
 *        [--noise-retries N] [--quiet-wait S] [--only TEXT]
 *
 * 1. fills a fresh store (fill-store.ts, or fill-postgres.ts into a throwaway PostgreSQL cluster
 *    with durability on) or, with --reuse, uses one filled before;
 * 2. starts N real servers (`bin/refreshd.js serve --no-worker`) as child processes on 127.0.0.1,
 *    all on the same store, for each N given to --api-processes;
 * 3. drives them with V1-signed calls over undici keep-alive pools (load.ts), the bench's
 *    clients spread evenly over the processes, one bounded scenario after another, checking
 *    every answer;
 * 4. PostgreSQL with --retention: times the store's retention sweep on the full store (pg-retention.ts);
 * 5. prints a table of figures, the machine facts and pass/fail against the targets.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PgBackend } from './bench-postgres.js';
import { SqliteBackend } from './bench-sqlite.js';
import { DAY_MS } from './dataset.js';
import { buildScenarios, ingestCall } from './describe-scenarios.js';
import { NOISY, printRow, report, reportErrors, waitQuiet, type Measured } from './describe-report.js';
import type { BenchBackend } from './facts.js';
import { fillPostgres } from './fill-postgres.js';
import { fillStore } from './fill-store.js';
import { run, type RunResult } from './load.js';
import { measureRetention } from './pg-retention.js';
import { poolsFor, serveArgs, startServers, stopServers, type ApiProcess } from './servers.js';

const ROOT = resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    /** API processes on the same store, e.g. "1,2": the scenarios run once per count. */
    'api-processes': { type: 'string', default: '1' },
    /** An existing PostgreSQL database instead of a throwaway cluster (with --reuse: filled before). */
    'pg-url': { type: 'string' },
    /** PostgreSQL: after the scenarios, time retention sweeps on the full store (deletes old days). */
    retention: { type: 'boolean', default: false },
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
const CONCURRENCY = Number(args.concurrency);
const PROCS = args['api-processes'].split(',').map(Number);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (s: string) => process.stdout.write(s + '\n');

async function main() {
  const pg = args.store === 'postgres';
  if (!pg && args.store !== 'sqlite') throw new Error('--store is sqlite or postgres');
  if (PROCS.some((n) => !(n >= 1))) throw new Error('--api-processes takes counts >= 1, e.g. 1,2');
  if (!pg && PROCS.some((n) => n > 1)) throw new Error('several API processes need --store postgres (SQLite is one process)');
  if (args.reuse && !args.data) throw new Error('--reuse needs --data DIR');
  if (pg && args.reuse && !args['pg-url']) throw new Error('--store postgres --reuse needs --pg-url (the throwaway cluster is gone after a run)');
  // The loader writes the schema of this checkout's src/; another server build must get a store it knows.
  if (args['server-root'] && !args.reuse) throw new Error('--server-root needs --data DIR --reuse (a store filled for that server)');
  const dataDir = args.data ? resolve(args.data) : mkdtempSync(join(tmpdir(), 'refreshd-bench-'));
  const keysFile = join(dataDir, 'bench-keys.json');
  const dbFile = join(dataDir, 'refreshd.db');
  let backend: BenchBackend | undefined;
  let procs: ApiProcess[] = [];
  const removeData = () => {
    if (args.keep) return log(`kept ${dataDir}`);
    rmSync(dataDir, { recursive: true, force: true });
    log(`removed ${dataDir} (pass --keep to keep it)`);
  };
  // Interrupted: exit handlers kill the servers (servers.ts) and the PostgreSQL cluster (pg-cluster.ts).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (removeData(), process.exit(130)));

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
    log(`measuring refreshd ${commit}${dirty && !args['server-root'] ? ' (src/ has uncommitted changes)' : ''} on ${args.store}`);

    // ---- 1. data ---------------------------------------------------------------------------
    let load: { ms: number; items: number; tasks: number; vacuumMs?: number } | undefined;
    if (pg) backend = await PgBackend.open(args['pg-url']);
    if (args.reuse) {
      if (!existsSync(keysFile)) throw new Error(`--reuse: no ${keysFile}`);
      if (!pg && !existsSync(dbFile)) throw new Error(`--reuse: no store at ${dbFile}`);
      log(`reusing the store ${pg ? args['pg-url'] : dbFile}`);
    } else {
      mkdirSync(dataDir, { recursive: true });
      if (existsSync(keysFile)) throw new Error(`${dataDir} holds a filled store; pass --reuse to use it, or pick an empty --data dir`);
      const need = ITEMS * (pg ? 900 : 450); // SQLite ~330 B/item; PostgreSQL ~2x that, plus WAL
      const fs = statfsSync(pg ? tmpdir() : dataDir);
      log(`~${((need) / 2 ** 30).toFixed(1)} GiB needed, ${((fs.bavail * fs.bsize) / 2 ** 30).toFixed(1)} GiB free`);
      if (fs.bavail * fs.bsize < need) throw new Error('not enough disk space for the store');
      log(`filling ${fmt(ITEMS)} items over ${fmt(Number(args.accounts))} accounts ...`);
      // Span 3 days minus an hour so every row is still inside the 3-day query window while we measure.
      const opts = { items: ITEMS, accounts: Number(args.accounts), end: Date.now(), spanMs: 3 * DAY_MS - 3_600_000, seed: Number(args.seed), log };
      const r = pg ? await fillPostgres({ ...opts, url: (backend as PgBackend).url }) : fillStore({ ...opts, file: dbFile });
      // The key pairs, for --reuse: a store that seals secrets cannot give them back.
      writeFileSync(keysFile, JSON.stringify(r.keys));
      load = r;
      log(`loaded ${fmt(r.items)} items, ${fmt(r.tasks)} tasks, ${r.accounts} accounts, ${r.domains} domains in ${(r.ms / 1000).toFixed(1)} s (${fmt(r.items / (r.ms / 1000))} rows/s)`);
    }
    backend ??= new SqliteBackend(dbFile, !args['server-root']);

    // ---- 2. what to ask for ----------------------------------------------------------------
    const facts = await backend.facts(keysFile);
    const dbBytes = await backend.sizeBytes();
    log(`store: ${fmt(facts.itemCount)} items, ${fmt(facts.taskCount)} tasks, ${facts.accounts.length} accounts, ${(dbBytes / 2 ** 30).toFixed(2)} GiB; heaviest account ${facts.heaviest.id} with ${fmt(facts.heaviest.items)} items`);
    const ageDays = (Date.now() - facts.oldest) / DAY_MS;
    // The server only shows the last queryWindowDays; widen it when a reused store has aged, so the
    // same rows stay visible (the queries then cover exactly the data set, as on a fresh store).
    // Half an hour of margin covers a full run; a fresh store spans 3 days minus an hour.
    const windowDays = Math.max(3, Math.ceil(ageDays + 0.5 / 24));
    if (windowDays > 3) log(`note: the oldest row is ${ageDays.toFixed(2)} days old; query window widened to ${windowDays} days so all rows stay visible`);
    const sweepMs = await backend.measureSweep(facts.oldest).catch((err: Error) => (log(`retention sweep not measured: ${err.message}`), NaN));
    log(`retention sweep with nothing to delete (what the server runs every 10 min): ${sweepMs.toFixed(0)} ms`);
    if (args.explain) await backend.explain(facts);

    // ---- 3. servers and scenarios, per number of API processes ------------------------------
    const configFile = join(dataDir, 'bench-config.json');
    writeFileSync(configFile, JSON.stringify({
      quotas: { cdn: { url: 100_000_000 } },
      perMinutePerDomain: 10_000_000, // the schema's ceiling
      queryWindowDays: windowDays,
      retentionDays: windowDays,
    }, null, 2));
    const serverOpts = { root: serverRoot, dataDir, configFile, storeUrl: pg ? (backend as PgBackend).url : undefined, withWorker: args['with-worker'], profileDir: args.profile };
    const wanted = (name: string) => !args.only || name.includes(args.only);
    const scenarios = buildScenarios(facts).filter((s) => wanted(s.name));
    const results: Measured[] = [];
    for (const n of PROCS) {
      procs = await startServers(serverOpts, n);
      log(`${n} API process${n > 1 ? 'es' : ''} (${serveArgs(serverOpts).join(' ')}): ${procs.map((p) => `pid ${p.pid} on :${p.port}`).join(', ')}`);
      const pools = poolsFor(procs, Math.ceil(CONCURRENCY / n));
      const pids = procs.map((p) => p.pid);
      // Other sessions share this machine: a run during which other processes took a noticeable
      // share of the CPU is repeated, and the quietest attempt is kept.
      const measure = async (o: Parameters<typeof run>[1], group: string, filtered: boolean) => {
        let best: RunResult | undefined;
        const retries = Number(args['noise-retries']);
        for (let attempt = 0; attempt <= retries; attempt++) {
          await waitQuiet(Number(args['quiet-wait']), pids, backend!.dbPid);
          const res = await run(pools, { ...o, serverPids: pids, dbPid: backend!.dbPid });
          printRow(res, attempt < retries);
          if (!best || (res.otherCpu ?? 0) < (best.otherCpu ?? 0)) best = res;
          if ((res.otherCpu ?? 0) <= NOISY) break;
        }
        results.push({ ...best!, group, filtered, procs: n });
      };
      // Warm-up: touch every query shape a little on every process (statement caches, page cache, JIT).
      log('warm-up ...');
      await backend!.warm?.();
      for (const s of scenarios) await run(pools, { name: 'warm', concurrency: 4 * n, maxRequests: 300 * n, maxSeconds: 2, make: s.make });
      for (const s of scenarios) {
        await measure({ name: s.name, concurrency: CONCURRENCY, maxRequests: Number(args.requests), maxSeconds: Number(args.seconds), make: s.make }, s.group, !!s.filtered);
      }
      // Latency without queueing: one request in flight, so one process (the first count only).
      if (n === PROCS[0]) {
        for (const s of scenarios.filter((x) => x.group === 'list' || x.group === 'byid')) {
          await measure({ name: `${s.name} [c=1]`, concurrency: 1, maxRequests: Number(args.requests), maxSeconds: Number(args['latency-seconds']), make: s.make }, `${s.group}-c1`, !!s.filtered);
        }
      }
      // Ingest last: it adds rows, removed again below so the next count (and --reuse) sees the same data.
      const before = await backend.highWater();
      if (wanted('RefreshObjectCaches 1000 URLs/call')) {
        await measure({
          name: 'RefreshObjectCaches 1000 URLs/call', concurrency: Number(args['ingest-concurrency']), maxRequests: Number(args['ingest-calls']),
          maxSeconds: Number(args.seconds), make: ingestCall(facts),
        }, 'ingest', false);
      }
      await Promise.all(pools.map((p) => p.close()));
      await stopServers(procs);
      if (procs.some((p) => p.child.exitCode !== null && p.child.exitCode !== 0)) log('an API process exited with an error (see its stderr above)');
      procs = [];
      if (args.keep || n !== PROCS.at(-1) || args.retention) {
        const t0 = performance.now();
        const removed = await backend.removeAbove(before);
        log(`removed the ${fmt(removed)} ingested items again (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }
    if (args.profile) log(`server CPU profiles written to ${resolve(args.profile)}`);

    // ---- 4. retention at scale (PostgreSQL; deletes the oldest days) -------------------------
    const retention = pg && args.retention ? await measureRetention((backend as PgBackend).url, log) : undefined;

    // ---- 5. report -------------------------------------------------------------------------
    report(results, {
      load, facts, dbBytes, sweepMs, windowDays, commit, serverArgs: serveArgs(serverOpts).join(' '), engine: await backend.describe(),
      concurrency: CONCURRENCY, seconds: Number(args.seconds), requests: Number(args.requests),
    });
    if (retention) for (const line of retention) log(line);
    if (reportErrors(results)) process.exitCode = 1;
  } finally {
    await stopServers(procs);
    await backend?.close();
    removeData();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
