/**
 * Fan-out benchmark: submit → Complete latency of refreshd against a bare script that sends the
 * same purges straight to the same nodes, in the same run.
 *
 *   node --import tsx bench/fanout.ts [--reps1 40] [--reps100 60] [--reps1000 8] [--warmup 20000] [--sim-nodes 200]
 *                                     [--store sqlite|postgres] [--only varnish|varnish-probe|varnish-ack|simulated|purge-warm[:1|100|1000]] [--profile DIR] [--cpu] [--zero-fleet]
 *                                     [--server-root DIR]
 *
 * Fleets: 3 real Varnish nodes (started here, in front of a local origin), twice: group
 * `varnish` verifies every purge with the VCL probe (the default), group `varnish-ack` takes
 * Varnish's answer (`verify: ack`); and 200 simulated nodes with 5–20 ms of latency per
 * operation (a remote fleet). refreshd runs as its own process (API + worker, SQLite); the bench
 * waits with the WaitForTasks long-poll, which answers as soon as the worker records the last
 * outcome.
 *
 * Baselines, measured in the same run (bench/fanout-report.ts judges the targets): the Varnish
 * cells against a bare script that pipelines the same purges as refreshd does (8 in flight on one
 * connection per node), the probe cells against one that also sends each probe right behind its
 * purge; a bare script on 8 connections per node is printed too. The simulated fleet's bare side
 * calls the same driver directly with the same per-node limit. The purge-then-warm cell
 * (purge-warm-cell.ts) compares PreloadAfter=true on the 3 Varnish with a bare script that purges,
 * then GETs.
 *
 * `--server-root DIR` runs the server of another checkout (built there: `npx tsc`), so two builds
 * can be measured alternately with the same bench.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { EdgeHttpClient } from '../src/edges/http-client.js';
import { LEGACY_PLAIN } from '../src/identity/secret-box.js';
import { SimulatedDriver } from '../src/edges/simulated.js';
import type { Store } from '../src/store/port.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { startPgCluster } from '../test/store/pg-cluster.js';
import { NodeSlots } from './node-slots.js';
import { startOrigin } from '../test/edges/harness/origin.js';
import { startVarnish, type Varnish } from '../test/edges/harness/varnish.js';
import type { Credentials } from './load.js';
import { startServe } from './serve-process.js';
import { CpuSplit, snapshot } from './cpu-split.js';
import { pct, report, type Cell } from './fanout-report.js';
import { runPurgeWarmCell } from './purge-warm-cell.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    reps1: { type: 'string', default: '40' },
    reps100: { type: 'string', default: '60' },
    reps1000: { type: 'string', default: '8' },
    /**
     * Purges (URLs × nodes) run first in each cell on both sides and not counted, at least one
     * rep and at most 60. A fresh server needs ~18,000 purges to reach its steady state (3
     * Varnish × 100 URLs: 28 ms a task over its first 15 reps, 18–19 ms from the 60th on; V8
     * optimises the executor's and the store's paths), while the bench's own client is warm
     * from loading the caches before every rep.
     */
    warmup: { type: 'string', default: '20000' },
    'sim-nodes': { type: 'string', default: '200' },
    only: { type: 'string' },
    /** sqlite (default) or postgres: a throwaway PostgreSQL cluster (test/store/pg-cluster.ts). */
    store: { type: 'string', default: 'sqlite' },
    profile: { type: 'string' },
    /** Print who used the CPU per rep (Linux /proc): refreshd's threads, Varnish, this process. */
    cpu: { type: 'boolean', default: false },
    /** The Varnish group gets 3 simulated nodes that answer at once: refreshd's own cost per task. */
    'zero-fleet': { type: 'boolean', default: false },
    /** Run the server of this checkout instead of this one's (its dist/ built there). */
    'server-root': { type: 'string' },
  },
});
const CRED: Credentials = { accessKeyId: 'LTAIfanoutBench000001', secret: 'fanout-bench-secret' };
const PER_NODE = 8;
const SIM_LATENCY: [number, number] = [5, 20];


async function main() {
  // The server runs from dist/: build it first so the bench measures the current code (the
  // Varnish harness runs this checkout's CLI too, even with --server-root).
  const serverRoot = args['server-root'] ? resolve(args['server-root']) : ROOT;
  if (spawnSync('npx', ['tsc', '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');
  const origin = await startOrigin();
  const varnishes: Varnish[] = [];
  for (let i = 0; i < 3; i++) varnishes.push(await startVarnish(origin.port));
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-fanout-'));
  const simNodes = Number(args['sim-nodes']);

  // The fleet and domains go straight into the store before the server starts.
  const pg = args.store === 'postgres' ? await startPgCluster() : undefined;
  const storeUrl = pg ? await pg.createDatabase() : undefined;
  const store: Store = storeUrl ? await PostgresStore.open(storeUrl) : new SqliteStore(join(dir, 'refreshd.db'));
  const now = Date.now();
  const acct = await store.identity.createAccount({ uid: '1000000000000099', name: 'root', createdAt: now });
  // A `plain:` secret is sealed under the data dir's master key when the server opens the store.
  await store.identity.createAccessKey({ accessKeyId: CRED.accessKeyId, secretCipher: `${LEGACY_PLAIN}${CRED.secret}`, accountId: acct.id, userName: null, active: true, createdAt: now });
  for (const [i, v] of varnishes.entries()) {
    // --zero-fleet: refreshd's own cost, with nodes that answer at once (the bare side still uses Varnish).
    if (args['zero-fleet']) await store.fleet.addNode({ name: `varnish-${i + 1}`, driver: 'simulated', address: `zero/${i}`, group: 'varnish', area: 'domestic', enabled: true, options: { latencyMs: [0, 0] }, createdAt: now });
    else await store.fleet.addNode({ name: `varnish-${i + 1}`, driver: 'varnish', address: v.address, group: 'varnish', area: 'domestic', enabled: true, options: {}, createdAt: now });
    // The same servers again, in a group that takes their answers at their word.
    await store.fleet.addNode({ name: `varnish-ack-${i + 1}`, driver: 'varnish', address: v.address, group: 'varnish-ack', area: 'domestic', enabled: true, options: {}, createdAt: now });
  }
  await store.fleet.setNodeGroup({ name: 'varnish-ack', verify: 'ack' });
  for (let i = 1; i <= simNodes; i++) {
    await store.fleet.addNode({ name: `sim-${i}`, driver: 'simulated', address: `sim/${i}`, group: 'sim', area: 'domestic', enabled: true, options: { latencyMs: SIM_LATENCY, concurrency: PER_NODE }, createdAt: now });
  }
  await store.domains.addDomain({ name: 'v.example.com', accountId: acct.id, product: 'cdn', origin: origin.url, online: true, nodeGroup: 'varnish', createdAt: now });
  await store.domains.addDomain({ name: 'va.example.com', accountId: acct.id, product: 'cdn', origin: origin.url, online: true, nodeGroup: 'varnish-ack', createdAt: now });
  await store.domains.addDomain({ name: 'sim.example.com', accountId: acct.id, product: 'cdn', origin: null, online: true, nodeGroup: 'sim', createdAt: now });
  await store.close();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    // The schema's ceilings (src/config/schema.ts): far above what any run submits.
    quotas: { cdn: { url: 100_000_000, preload: 100_000_000, preloadEdge: 100_000_000 } }, perMinutePerDomain: 10_000_000,
    engine: { simulatedNodes: 0, perNodeConcurrency: PER_NODE, maxInFlight: 2048 },
  }));

  const profile = args.profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(args.profile)] : [];
  const storeArgs = storeUrl ? ['--store', storeUrl] : [];
  const { server, call, api } = await startServe({
    root: serverRoot, cred: CRED, nodeArgs: profile, args: ['--data', dir, ...storeArgs, '--config', join(dir, 'config.json')], agent: { connections: 4 },
  });

  /** Submit, then long-poll WaitForTasks until every row is terminal; ms from submit to the answer. */
  const refreshd = async (urls: string[]) => {
    const t0 = performance.now();
    const id = (await call('POST', 'RefreshObjectCaches', { ObjectPath: urls.join('\n') })).RefreshTaskId as string;
    for (;;) {
      const r = await call('GET', 'WaitForTasks', { TaskId: id, Timeout: '60' });
      if (!r.Done) continue;
      const elapsed = performance.now() - t0;
      if (r.Tasks.some((t: any) => t.Status !== 'Complete')) throw new Error(`task ${id} did not complete: ${JSON.stringify(r.Tasks[0])}`);
      return elapsed;
    }
  };

  const edge = new Agent({ connections: PER_NODE });
  // What refreshd's EdgeHttpClient does for purges: the same 8 in flight per node, on one connection.
  const pipelinedEdge = new Agent({ connections: 1, pipelining: PER_NODE });
  const warm = async (urls: string[]) => {
    for (const v of varnishes) {
      await Promise.all(urls.map(async (u) => (await request(`http://${v.address}${new URL(u).pathname}`, { dispatcher: edge, headers: { host: new URL(u).host } })).body.dump()));
    }
  };
  const bareVarnish = async (urls: string[], dispatcher = edge) => {
    const t0 = performance.now();
    await Promise.all(varnishes.flatMap((v) => urls.map(async (u) => {
      const pipelined = dispatcher === pipelinedEdge ? { idempotent: true, blocking: false } : {};
      const res = await request(`http://${v.address}${new URL(u).pathname}`, { dispatcher, method: 'PURGE', headers: { host: new URL(u).host }, ...pipelined });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`bare purge answered ${res.statusCode}`);
    })));
    return performance.now() - t0;
  };
  /**
   * What verification adds, done by hand as refreshd does it: each purge with a probe of the same
   * URL sent right behind it on the node's one pipelined connection (answered in order).
   */
  const bareVarnishProbed = async (urls: string[]) => {
    const t0 = performance.now();
    const piped = { dispatcher: pipelinedEdge, idempotent: true, blocking: false };
    await Promise.all(varnishes.flatMap((v) => urls.map(async (u) => {
      const { host, pathname } = new URL(u);
      const purging = request(`http://${v.address}${pathname}`, { ...piped, method: 'PURGE', headers: { host } });
      const probing = request(`http://${v.address}${pathname}`, { ...piped, method: 'GET', headers: { host, 'x-cache-probe': '1' } });
      const purged = await purging;
      await purged.body.dump();
      if (purged.statusCode !== 200) throw new Error(`bare purge answered ${purged.statusCode}`);
      const probed = await probing;
      await probed.body.dump();
      if (probed.statusCode !== 404) throw new Error(`bare probe answered ${probed.statusCode}: still cached`);
    })));
    return performance.now() - t0;
  };
  const sim = new SimulatedDriver(new EdgeHttpClient());
  const bareSim = async (urls: string[]) => {
    const slots = new NodeSlots();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: simNodes }, (_, n) => urls.map(async (u) => {
      await slots.acquire(n, PER_NODE);
      try {
        await sim.execute({ id: n, name: `sim-${n}`, driver: 'simulated', address: '', options: { latencyMs: SIM_LATENCY } },
          { kind: 'refresh', objectType: 'file', force: false, objectPath: u, host: 'sim.example.com', scheme: 'http', path: new URL(u).pathname, headers: {}, origin: null },
          new AbortController().signal);
      } finally {
        slots.release(n);
      }
    })).flat());
    return performance.now() - t0;
  };

  let seq = 0;
  const cells: Cell[] = [];
  // --only FLEET:URLS runs some cells (for profiling): `varnish` both Varnish groups,
  // `varnish-probe` or `varnish-ack` one of them, `simulated`, `purge-warm`; `varnish-ack:100` one cell.
  const [onlyFleet, onlyN] = (args.only ?? ':').split(':');
  for (const fleet of ['varnish', 'varnish-ack', 'simulated'] as const) {
    if (onlyFleet && !(fleet === 'varnish' ? 'varnish-probe' : fleet).startsWith(onlyFleet)) continue;
    const isVarnish = fleet !== 'simulated';
    for (const n of [1, 100, 1000]) {
      if (onlyN && Number(onlyN) !== n) continue;
      const reps = Number(n === 1 ? args.reps1 : n === 100 ? args.reps100 : args.reps1000);
      const label = fleet === 'varnish' ? '3 Varnish (probe)' : fleet === 'varnish-ack' ? '3 Varnish (ack)' : `${simNodes} simulated`;
      const cell: Cell = { fleet, label, urls: n, ours: [], bare: [], barePiped: [], bareProbed: [] };
      const cpu = args.cpu ? { ours: new CpuSplit(), bare: new CpuSplit() } : undefined;
      const warmup = Math.min(60, Math.max(1, Math.ceil(Number(args.warmup) / (n * (isVarnish ? varnishes.length : simNodes)))));
      for (let r = 0; r < warmup + reps; r++) {
        const counted = r >= warmup;
        const host = fleet === 'varnish' ? 'v.example.com' : fleet === 'varnish-ack' ? 'va.example.com' : 'sim.example.com';
        const urls = Array.from({ length: n }, (_, i) => `http://${host}/b/${seq}/${i}.js`);
        seq++;
        if (isVarnish) await warm(urls);
        const s0 = cpu && snapshot(server.pid!);
        const mine = await refreshd(urls);
        if (s0 && counted) cpu.ours.add(s0, snapshot(server.pid!));
        if (isVarnish) await warm(urls);
        const s1 = cpu && !isVarnish && snapshot(server.pid!);
        const theirs = isVarnish ? await bareVarnish(urls) : await bareSim(urls);
        if (s1 && counted) cpu.bare.add(s1, snapshot(server.pid!));
        // The same purges pipelined as refreshd sends them to Varnish (the baseline of the
        // Varnish targets; its CPU is the bare side's in --cpu), and with a probe behind each
        // (the probe group's baseline).
        if (isVarnish) {
          await warm(urls);
          const s2 = cpu && snapshot(server.pid!);
          const piped = await bareVarnish(urls, pipelinedEdge);
          if (s2 && counted) cpu.bare.add(s2, snapshot(server.pid!));
          if (counted) cell.barePiped.push(piped);
        }
        if (fleet === 'varnish') {
          await warm(urls);
          const probed = await bareVarnishProbed(urls);
          if (counted) cell.bareProbed.push(probed);
        }
        if (!counted) continue;
        cell.ours.push(mine);
        cell.bare.push(theirs);
      }
      if (cpu) {
        cell.cpu = `refreshd run: ${cpu.ours}; bare run (${isVarnish ? 'pipelined' : 'simulated driver'}): ${cpu.bare}`;
        cell.cpuOurs = cpu.ours.perRep();
      }
      cells.push(cell);
      const base = cell.barePiped.length ? `bare pipelined ${pct(cell.barePiped, 50).toFixed(1)} ms` : `bare ${pct(cell.bare, 50).toFixed(1)} ms`;
      const probed = cell.bareProbed.length ? `, bare purge+probe pipelined ${pct(cell.bareProbed, 50).toFixed(1)} ms` : '';
      console.log(`${label} × ${n}: refreshd p50 ${pct(cell.ours, 50).toFixed(1)} ms; ${base}${probed} (${reps} reps)`);
    }
  }

  // Purge-then-warm, 3 Varnish × 100 URLs, against a bare script purging then GETting per node
  // (purge-warm-cell.ts): on the group that takes Varnish's answer, and on the one that probes.
  if (!onlyFleet || (onlyFleet === 'purge-warm' && (!onlyN || onlyN === '100'))) {
    const reps = Number(args.reps100);
    for (const [label, host, probe] of [['3 Varnish (ack) purge-then-warm', 'va.example.com', false], ['3 Varnish (probe) purge-then-warm', 'v.example.com', true]] as const) {
      const run = await runPurgeWarmCell({
        call, varnishes, origin, host, probe, urls: 100, reps, warmup: Math.min(60, Math.max(1, Math.ceil(Number(args.warmup) / 600))),
        cpuOf: args.cpu ? server.pid : undefined,
      });
      const cell: Cell = { fleet: 'purge-warm', label, urls: 100, ours: run.ours, bare: run.bare, barePiped: [], bareProbed: [] };
      if (run.cpu) cell.cpu = `refreshd run: ${run.cpu.ours}; bare run: ${run.cpu.bare}`;
      cells.push(cell);
      console.log(`${label} × 100: refreshd p50 ${pct(cell.ours, 50).toFixed(1)} ms; bare purge-then-GET ${pct(cell.bare, 50).toFixed(1)} ms (${reps} reps)`);
    }
  }

  const build = args['server-root'] ? `server from ${serverRoot}` : 'server from this checkout';
  report(cells, `store: ${args.store}; ${build}; machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}; per-node concurrency ${PER_NODE}; simulated latency ${SIM_LATENCY.join('–')} ms`, !!args['zero-fleet']);

  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await api.close();
  await edge.close();
  await pipelinedEdge.close();
  for (const v of varnishes) await v.stop();
  await origin.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
