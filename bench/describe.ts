/**
 * Describe/ingest benchmark for refreshd, SQLite (default) or PostgreSQL, with its baselines
 * measured in the same run, so that its figures travel between machines as ratios.
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
 *    all on the same store, for each N given to --api-processes, and the bare server
 *    (bare-server.ts);
 * 3. per scenario, one after the other: refreshd, then the bare server with the same load
 *    generator, signing and concurrency (load.ts) answering with bodies captured from
 *    refreshd's answers, then the store's own reads of the same questions in this process
 *    (describe-scenarios.ts); ingest, then the same batches through the store's own submit
 *    (describe-baselines.ts); every refreshd answer is checked;
 * 4. PostgreSQL with --retention: times the store's retention sweep on the full store (pg-retention.ts);
 * 5. prints a table of figures, the ratios to the baselines and PASS/FAIL per target.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PgBackend } from './bench-postgres.js';
import { SqliteBackend } from './bench-sqlite.js';
import { DAY_MS } from './dataset.js';
import { rawIngest, startBareServer, type BareServer } from './describe-baselines.js';
import { buildScenarios, callsOf, ingestCall, storeCallsOf } from './describe-scenarios.js';
import { NOISY, printRow, report, reportErrors, waitQuiet, type Kind, type Measured } from './describe-report.js';
import type { BenchBackend } from './facts.js';
import type { Store } from '../src/store/port.js';
import { fillPostgres } from './fill-postgres.js';
import { fillStore } from './fill-store.js';
import { run, runLocal, type Call, type RunResult } from './load.js';
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
    /** Small by default so a run takes minutes; the 2 M-item run: --items 2000000. */
    items: { type: 'string', default: '200000' },
    /** Default: one per 2,000 items, 40 to 1,000 (the data set needs 40 for its heavy accounts). */
    accounts: { type: 'string' },
    data: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '16' },
    'ingest-concurrency': { type: 'string', default: '4' },
    'ingest-calls': { type: 'string', default: '1000' },
    'latency-seconds': { type: 'string', default: '3' },
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
const ACCOUNTS = args.accounts !== undefined ? Number(args.accounts) : Math.max(40, Math.min(1000, Math.round(ITEMS / 2000)));
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
  let bare: BareServer | undefined;
  let ownStore: Store | undefined;
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
      log(`filling ${fmt(ITEMS)} items over ${fmt(ACCOUNTS)} accounts ...`);
      // Span 3 days minus an hour so every row is still inside the 3-day query window while we measure.
      const opts = { items: ITEMS, accounts: ACCOUNTS, end: Date.now(), spanMs: 3 * DAY_MS - 3_600_000, seed: Number(args.seed), log };
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
    // The baselines: the bare server, and the store opened in this process (not for another
    // build's store: this checkout's code would migrate it).
    bare = await startBareServer(ROOT, CONCURRENCY);
    log(`bare server (bench/bare-server.ts): pid ${bare.pid}`);
    if (args['server-root']) log("note: --server-root: no store baselines (this checkout's store code must not open another build's store)");
    else ownStore = await backend.openStore();
    for (const n of PROCS) {
      const first = n === PROCS[0];
      procs = await startServers(serverOpts, n);
      log(`${n} API process${n > 1 ? 'es' : ''} (${serveArgs(serverOpts).join(' ')}): ${procs.map((p) => `pid ${p.pid} on :${p.port}`).join(', ')}`);
      const pools = poolsFor(procs, Math.ceil(CONCURRENCY / n));
      const pids = procs.map((p) => p.pid);
      // Other sessions share this machine: a run during which other processes took a noticeable
      // share of the CPU is repeated, and the quietest attempt is kept.
      const measure = async (kind: Kind, scenario: string, group: string, filtered: boolean, go: () => Promise<RunResult>) => {
        let best: RunResult | undefined;
        const retries = Number(args['noise-retries']);
        for (let attempt = 0; attempt <= retries; attempt++) {
          await waitQuiet(Number(args['quiet-wait']), kind === 'bare' ? [bare!.pid] : pids, backend!.dbPid);
          const res = await go();
          printRow(res, attempt < retries);
          if (!best || (res.otherCpu ?? 0) < (best.otherCpu ?? 0)) best = res;
          if ((res.otherCpu ?? 0) <= NOISY) break;
        }
        results.push({ ...best!, kind, scenario, group, filtered, procs: n });
      };
      const bounded = { concurrency: CONCURRENCY, maxRequests: Number(args.requests), maxSeconds: Number(args.seconds) };
      const onBare = (make: () => Call) => () => ({ ...make(), check: undefined });
      // Warm-up: touch every query shape a little on every process (statement caches, page cache,
      // JIT), keeping refreshd's answers for the bare server to answer with.
      log('warm-up ...');
      await backend!.warm?.();
      const bodies = scenarios.map(() => [] as string[]);
      for (const [i, s] of scenarios.entries()) {
        await run(pools, { name: 'warm', concurrency: 4 * n, maxRequests: 300 * n, maxSeconds: 2, make: callsOf(s, i), bodies: bodies[i], keep: 200 });
        if (!first) continue;
        await bare.can(bodies[i]);
        await run(bare.pool, { name: 'warm', concurrency: 4, maxRequests: 300, maxSeconds: 2, make: onBare(callsOf(s, i)) });
        if (ownStore) await runLocal({ name: 'warm', concurrency: 1, maxRequests: 300, maxSeconds: 2, make: storeCallsOf(s, i, ownStore, windowDays) });
      }
      for (const [i, s] of scenarios.entries()) {
        await measure('refreshd', s.name, s.group, !!s.filtered, () => run(pools, { name: s.name, ...bounded, make: callsOf(s, i), serverPids: pids, dbPid: backend!.dbPid }));
        if (!first) continue;
        await bare.can(bodies[i]);
        await measure('bare', s.name, s.group, !!s.filtered, () => run(bare!.pool, { name: `${s.name} [bare]`, ...bounded, make: onBare(callsOf(s, i)), serverPids: [bare!.pid] }));
        const store = ownStore;
        if (store) await measure('store', s.name, s.group, !!s.filtered, () => runLocal({ name: `${s.name} [store]`, ...bounded, make: storeCallsOf(s, i, store, windowDays), dbPid: backend!.dbPid }));
      }
      // Latency without queueing: one request in flight, so one process (the first count only).
      if (first) {
        for (const [i, s] of scenarios.entries()) {
          await measure('refreshd', `${s.name} [c=1]`, `${s.group}-c1`, !!s.filtered, () => run(pools, { name: `${s.name} [c=1]`, ...bounded, concurrency: 1, maxSeconds: Number(args['latency-seconds']), make: callsOf(s, i), serverPids: pids, dbPid: backend!.dbPid }));
        }
      }
      // Ingest last: it adds rows, removed again below so the next count (and --reuse) sees the same data.
      const before = await backend.highWater();
      const INGEST = 'RefreshObjectCaches 1000 URLs/call';
      if (wanted(INGEST)) {
        const ingest = { concurrency: Number(args['ingest-concurrency']), maxRequests: Number(args['ingest-calls']), maxSeconds: Number(args.seconds) };
        const answers: string[] = [];
        await measure('refreshd', INGEST, 'ingest', false, () => run(pools, { name: INGEST, ...ingest, make: ingestCall(facts), serverPids: pids, dbPid: backend!.dbPid, bodies: answers, keep: 50 }));
        if (first) {
          await bare.can(answers);
          await measure('bare', INGEST, 'ingest', false, () => run(bare!.pool, { name: `${INGEST} [bare]`, ...ingest, make: onBare(ingestCall(facts, 'bare')), serverPids: [bare!.pid] }));
          const store = ownStore;
          if (store) await measure('store', INGEST, 'ingest', false, () => runLocal({ name: `${INGEST} [store]`, ...ingest, make: rawIngest(store, facts), dbPid: backend!.dbPid }));
        }
      }
      await Promise.all(pools.map((p) => p.close()));
      await stopServers(procs);
      if (procs.some((p) => p.child.exitCode !== null && p.child.exitCode !== 0)) log('an API process exited with an error (see its stderr above)');
      procs = [];
      if (args.keep || n !== PROCS.at(-1) || args.retention) {
        // The store of this process is closed first: SQLite's removal takes the write lock.
        if (n === PROCS.at(-1)) (await ownStore?.close(), (ownStore = undefined));
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
    await bare?.stop();
    await ownStore?.close();
    await backend?.close();
    removeData();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
