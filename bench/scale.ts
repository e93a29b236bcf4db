/**
 * Scale cell: what one task costs refreshd per node-attempt as the fleet grows. A node group
 * of N simulated nodes that answer at once (no latency, no failures) per cell, N = 10, 100,
 * 1,000 by default, and tasks of 1,000 URLs each: 10 k, 100 k and 1 M node-attempts a task.
 * The nodes cost nothing, so what is measured is refreshd's own work: the API, the store and
 * the worker with its executor thread (`serve`, SQLite, the engine's default settings).
 *
 *   node --import tsx bench/scale.ts [--nodes 10,100,1000] [--urls 1000] [--reps 3,2,1]
 *        [--max-in-flight N] [--no-build]
 *
 * Per cell (averages over its reps, after one warm-up task that is not counted):
 * - time to Complete: from the submit to the WaitForTasks answer that says Done, per task and
 *   per node-attempt;
 * - CPU per node-attempt: the server's main thread, its executor thread, its other threads
 *   (Linux /proc, cpu-split.ts);
 * - bytes written to disk per node-attempt by the server process (/proc/PID/io write_bytes:
 *   the WAL and its checkpoints);
 * - bytes the store holds per node-attempt: the node_attempts table and its indexes
 *   (SQLite's dbstat) over its rows, read once the cell is done;
 * - the server's resident memory after the cell, and its peak so far.
 * Each per-attempt figure is also printed divided by the first cell's (the baseline of the
 * growth), so it shows how the cost per attempt grows with the fleet.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { LEGACY_PLAIN } from '../src/identity/secret-box.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { stopProcess } from '../test/edges/harness/process.js';
import { CpuSplit, snapshot } from './cpu-split.js';
import type { Credentials } from './load.js';
import { startServe } from './serve-process.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10,100,1000' },
    urls: { type: 'string', default: '1000' },
    /** Reps per cell, in the order of --nodes (the last count given holds for the rest). */
    reps: { type: 'string', default: '3,2,1' },
    /** engine.maxInFlight; default: the engine's own default. */
    'max-in-flight': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
  strict: true,
});
const NODES = args.nodes.split(',').map(Number);
const URLS = Number(args.urls);
const REPS = args.reps.split(',').map(Number);
const CRED: Credentials = { accessKeyId: 'LTAIscaleBench0000001', secret: 'scale-bench-secret' };
const log = (s: string) => process.stdout.write(s + '\n');

/** Bytes this process has caused to be written to storage (Linux /proc/PID/io). */
function writeBytes(pid: number): number {
  const m = /^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** VmRSS and VmHWM of a process, in MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(s)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

interface Cell {
  nodes: number;
  reps: number;
  attempts: number;
  msPerTask: number;
  cpu: Record<string, number>;
  diskBytes: number;
  heldBytesPerAttempt: number;
  attemptRows: number;
  rss: number;
  peak: number;
}

async function main() {
  if (!args['no-build'] && spawnSync('npx', ['tsc', '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-scale-'));
  const dbFile = join(dir, 'refreshd.db');
  const store = new SqliteStore(dbFile);
  const now = Date.now();
  const acct = await store.identity.createAccount({ uid: '1000000000000077', name: 'root', createdAt: now });
  await store.identity.createAccessKey({ accessKeyId: CRED.accessKeyId, secretCipher: `${LEGACY_PLAIN}${CRED.secret}`, accountId: acct.id, userName: null, active: true, createdAt: now });
  for (const n of NODES) {
    for (let i = 1; i <= n; i++) {
      await store.fleet.addNode({ name: `g${n}-${i}`, driver: 'simulated', address: `scale/${n}/${i}`, group: `g${n}`, area: 'domestic', enabled: true, options: { latencyMs: [0, 0] }, createdAt: now });
    }
    await store.domains.addDomain({ name: `n${n}.example.com`, accountId: acct.id, product: 'cdn', origin: null, online: true, nodeGroup: `g${n}`, createdAt: now });
  }
  await store.close();
  const engine = { simulatedNodes: 0, ...(args['max-in-flight'] ? { maxInFlight: Number(args['max-in-flight']) } : {}) };
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ quotas: { cdn: { url: 100_000_000 } }, perMinutePerDomain: 10_000_000, engine }));

  const { server, call, api } = await startServe({
    root: ROOT, cred: CRED, args: ['--data', dir, '--config', join(dir, 'config.json')],
    agent: { connections: 2, headersTimeout: 120_000, bodyTimeout: 120_000 },
  });
  let seq = 0;
  /** One task of URLS URLs on the group of n nodes, submit to Done; ms. */
  const task = async (n: number) => {
    const urls = Array.from({ length: URLS }, (_, i) => `http://n${n}.example.com/s/${seq}/${i}.js`);
    seq++;
    const t0 = performance.now();
    const id = (await call('POST', 'RefreshObjectCaches', { ObjectPath: urls.join('\n') })).RefreshTaskId as string;
    for (;;) {
      const r = await call('GET', 'WaitForTasks', { TaskId: id, Timeout: '60' });
      if (!r.Done) continue;
      const ms = performance.now() - t0;
      if (r.Tasks.some((t: any) => t.Status !== 'Complete')) throw new Error(`task ${id} did not complete: ${JSON.stringify(r.Tasks[0])}`);
      return ms;
    }
  };

  // The store as it stands, from a read-only connection of this process.
  const reader = new Database(dbFile, { readonly: true });
  const held = () => {
    const bytes = (reader.prepare("SELECT coalesce(sum(pgsize), 0) AS b FROM dbstat WHERE name = 'node_attempts' OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'node_attempts')").get() as { b: number }).b;
    const rows = (reader.prepare('SELECT count(*) AS n FROM node_attempts').get() as { n: number }).n;
    return { bytes, rows };
  };

  const cells: Cell[] = [];
  try {
    for (const [k, n] of NODES.entries()) {
      const reps = REPS[Math.min(k, REPS.length - 1)];
      await task(n); // warm-up, not counted
      const split = new CpuSplit();
      let ms = 0;
      let disk = 0;
      const h0 = held();
      for (let r = 0; r < reps; r++) {
        const s0 = snapshot(server.pid!);
        const w0 = writeBytes(server.pid!);
        ms += await task(n);
        disk += writeBytes(server.pid!) - w0;
        split.add(s0, snapshot(server.pid!));
      }
      const h1 = held();
      const attempts = URLS * n;
      const mem = memory(server.pid!);
      const cell: Cell = {
        nodes: n, reps, attempts, msPerTask: ms / reps, cpu: split.perRep(), diskBytes: disk / reps,
        heldBytesPerAttempt: (h1.bytes - h0.bytes) / (h1.rows - h0.rows), attemptRows: h1.rows, rss: mem.rss, peak: mem.peak,
      };
      cells.push(cell);
      log(`${n} nodes × ${URLS} URLs: ${reps} reps, ${(cell.msPerTask / 1000).toFixed(2)} s a task, CPU per task ${split}, disk ${(cell.diskBytes / 2 ** 20).toFixed(1)} MiB, RSS ${mem.rss.toFixed(0)} MiB (peak ${mem.peak.toFixed(0)})`);
    }
  } finally {
    reader.close();
    await api.close();
    await stopProcess(server, 15_000);
  }
  report(cells);
  rmSync(dir, { recursive: true, force: true });
}

function report(cells: Cell[]) {
  const b = cells[0];
  const us = (c: Cell, ms: number) => (ms * 1000) / c.attempts;
  const cpuOf = (c: Cell, party: string) => us(c, c.cpu[party] ?? 0);
  const total = (c: Cell) => Object.entries(c.cpu).filter(([k]) => k.startsWith('refreshd')).reduce((a, [, v]) => a + v, 0);
  const x = (v: number, base: number) => (base > 0 && Number.isFinite(v / base) ? `${(v / base).toFixed(2)}×` : '-');
  log(`\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; refreshd serve (SQLite, worker and executor thread), simulated nodes answering at once`);
  log(`per node-attempt, and (in brackets) divided by the ${b.nodes}-node cell's figure, the baseline of the growth:`);
  log('| nodes | attempts a task | reps | time to Complete | µs / attempt | main thread µs | executor µs | other threads µs | refreshd CPU µs | disk written B | store held B | RSS after MiB (peak) |');
  log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of cells) {
    const cols = [
      `${(c.msPerTask / 1000).toFixed(2)} s`,
      `${us(c, c.msPerTask).toFixed(2)} (${x(us(c, c.msPerTask), us(b, b.msPerTask))})`,
      `${cpuOf(c, 'refreshd main').toFixed(2)} (${x(cpuOf(c, 'refreshd main'), cpuOf(b, 'refreshd main'))})`,
      `${cpuOf(c, 'refreshd executor').toFixed(2)} (${x(cpuOf(c, 'refreshd executor'), cpuOf(b, 'refreshd executor'))})`,
      `${cpuOf(c, 'refreshd other threads').toFixed(2)}`,
      `${us(c, total(c)).toFixed(2)} (${x(us(c, total(c)), us(b, total(b)))})`,
      `${(c.diskBytes / c.attempts).toFixed(0)} (${x(c.diskBytes / c.attempts, b.diskBytes / b.attempts)})`,
      `${c.heldBytesPerAttempt.toFixed(0)} (${x(c.heldBytesPerAttempt, b.heldBytesPerAttempt)})`,
      `${c.rss.toFixed(0)} (${c.peak.toFixed(0)})`,
    ];
    log(`| ${c.nodes} | ${c.attempts.toLocaleString('en-US')} | ${c.reps} | ${cols.join(' | ')} |`);
  }
  for (const c of cells) {
    log(`ratio  ${c.nodes} nodes: refreshd CPU per attempt ${x(us(c, total(c)), us(b, total(b)))} the ${b.nodes}-node cell's (${us(c, total(c)).toFixed(2)} ÷ ${us(b, total(b)).toFixed(2)} µs); time per attempt ${x(us(c, c.msPerTask), us(b, b.msPerTask))} (${us(c, c.msPerTask).toFixed(2)} ÷ ${us(b, b.msPerTask).toFixed(2)} µs)`);
  }
  log(`store rows at the end: ${cells.at(-1)!.attemptRows.toLocaleString('en-US')} node attempts`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
