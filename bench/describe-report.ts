/**
 * Output of the describe benchmark: a line per attempt while it runs, then the machine facts,
 * a table per number of API processes, the throughput as processes are added, refreshd's
 * figures as ratios to the baselines of the same run, and pass/fail against the targets (all
 * ratios: absolute figures do not travel between machines). Also the wait for a quiet machine
 * before each scenario (others share it).
 */
import { cpus, totalmem } from 'node:os';
import type { Facts } from './facts.js';
import { machineBusySeconds, sutCpuSeconds, type RunResult } from './load.js';

export const NOISY = 0.3;
/**
 * The targets, as ratios to a baseline of the same run: throughput of ById (1 id) and of the
 * unfiltered first page ≥ 0.4× the bare server's; p99 of every Describe shape at the bench's
 * concurrency ≤ 3× the bare server's p99; ingest ≥ 0.5× the raw insert loop's URLs/s.
 */
export const TARGETS = { throughputVsBare: 0.4, p99VsBare: 3, ingestVsStore: 0.5 };
/** Scenarios whose throughput is judged against the bare server's. */
const THROUGHPUT_JUDGED = ['DescribeRefreshTaskById, 1 id', 'DescribeRefreshTasks, unfiltered page 1'];
/** What answered: refreshd, the bare server (bare-server.ts), or the store's own statements in the bench. */
export type Kind = 'refreshd' | 'bare' | 'store';
export type Measured = RunResult & { kind: Kind; scenario: string; group: string; filtered: boolean; procs: number };

const log = (s: string) => process.stdout.write(s + '\n');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (x: number) => (Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const pct = (x: number | undefined) => (x === undefined ? '?' : Math.round(x * 100) + '%');

/** Wait (at most `seconds`) until, over one second, other processes use < 20 % of a core. */
export async function waitQuiet(seconds: number, serverPids: number[], dbPid?: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  let waited = false;
  while (Date.now() < until) {
    const b0 = machineBusySeconds();
    const s0 = sutCpuSeconds(serverPids, dbPid);
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const b1 = machineBusySeconds();
    const s1 = sutCpuSeconds(serverPids, dbPid);
    const c = process.cpuUsage(c0);
    if (b0 === undefined || b1 === undefined || s0.server === undefined || s1.server === undefined) return;
    const other = b1 - b0 - (s1.server - s0.server) - ((s1.db ?? 0) - (s0.db ?? 0)) - (c.user + c.system) / 1e6;
    if (other < 0.2) {
      if (waited) log('  (machine quiet again)');
      return;
    }
    if (!waited) log(`  waiting for other processes to quiet down (using ${Math.round(other * 100)}% of a core) ...`);
    waited = true;
  }
}

export function printRow(x: RunResult, repeating: boolean) {
  const noisy = (x.otherCpu ?? 0) > NOISY ? `  [noisy: other processes used ${pct(x.otherCpu)} of a core${repeating ? '; repeating' : ''}]` : '';
  const extra = x.errors || x.mismatches ? `  ERRORS ${x.errors} MISMATCHES ${x.mismatches}: ${x.firstError}` : '';
  const db = x.dbCpu === undefined ? '' : `, db ${pct(x.dbCpu)}`;
  log(`  ${x.name.padEnd(58)} c=${String(x.concurrency).padStart(2)} ${fmt(x.requests).padStart(7)} req ${fmt(x.rps).padStart(6)}/s  p50 ${ms(x.p50).padStart(6)}  p99 ${ms(x.p99).padStart(6)} ms  server CPU ${pct(x.serverCpu)}${db}, client ${pct(x.clientCpu)}, other ${pct(x.otherCpu)}${extra}${noisy}`);
}

export interface ReportContext {
  load?: { ms: number; items: number; tasks: number; vacuumMs?: number };
  facts: Facts;
  dbBytes: number;
  sweepMs: number;
  windowDays: number;
  commit: string;
  serverArgs: string;
  engine: string;
  concurrency: number;
  seconds: number;
  requests: number;
}

function table(results: Measured[]) {
  log(`| ${'scenario'.padEnd(58)} | conc | requests | req/s  | p50 ms | p90 ms | p99 ms | max ms | srv CPU | db CPU | other | errors |`);
  log(`|${'-'.repeat(60)}|------|----------|--------|--------|--------|--------|--------|---------|--------|-------|--------|`);
  for (const x of results) {
    const name = x.group === 'ingest' ? `${x.name} (${fmt(x.unitsPerSec)} URLs/s)` : x.name;
    log(`| ${name.padEnd(58)} | ${String(x.concurrency).padStart(4)} | ${fmt(x.requests).padStart(8)} | ${fmt(x.rps).padStart(6)} | ${ms(x.p50).padStart(6)} | ${ms(x.p90).padStart(6)} | ${ms(x.p99).padStart(6)} | ${ms(x.max).padStart(6)} | ${pct(x.serverCpu).padStart(7)} | ${(x.dbCpu === undefined ? '-' : pct(x.dbCpu)).padStart(6)} | ${pct(x.otherCpu).padStart(5)} | ${String(x.errors + x.mismatches).padStart(6)} |`);
  }
}

export function report(results: Measured[], ctx: ReportContext) {
  const line = '-'.repeat(140);
  log('\n' + line);
  log('machine');
  log(`  refreshd ${ctx.commit} (${ctx.serverArgs}); bench concurrency ${ctx.concurrency}, ${ctx.seconds} s or ${fmt(ctx.requests)} requests per scenario; srv CPU / db CPU / other = cores used by the API processes / the database server / other processes`);
  log(`  nproc ${cpus().length} (${cpus()[0]?.model ?? '?'}), RAM ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${ctx.engine}`);
  log(`  items ${fmt(ctx.facts.itemCount)}, tasks ${fmt(ctx.facts.taskCount)}, accounts ${ctx.facts.accounts.length}, heaviest account ${fmt(ctx.facts.heaviest.items)} items, store ${(ctx.dbBytes / 2 ** 30).toFixed(2)} GiB, query window ${ctx.windowDays} d`);
  if (ctx.load) {
    const vac = ctx.load.vacuumMs === undefined ? '' : ` (of which VACUUM ANALYZE ${(ctx.load.vacuumMs / 1000).toFixed(1)} s)`;
    log(`  load: ${fmt(ctx.load.items)} items + ${fmt(ctx.load.tasks)} tasks in ${(ctx.load.ms / 1000).toFixed(1)} s = ${fmt(ctx.load.items / (ctx.load.ms / 1000))} rows/s${vac}`);
  }
  log(`  retention sweep (no rows to delete): ${Number.isNaN(ctx.sweepMs) ? 'not measured' : ctx.sweepMs.toFixed(0) + ' ms'}`);
  const counts = [...new Set(results.map((x) => x.procs))];
  for (const n of counts) {
    log(line);
    if (counts.length > 1 || n > 1) log(`${n} API process${n > 1 ? 'es' : ''}`);
    table(results.filter((x) => x.procs === n));
  }
  if (counts.length > 1) {
    log(line);
    log(`throughput as API processes go ${counts.join(' → ')} (c=${ctx.concurrency}; ingest in URLs/s)`);
    log(`| ${'scenario'.padEnd(58)} | ${counts.map((n) => `${n} proc req/s | srv+db CPU`).join(' | ')} |`);
    for (const x of results.filter((r) => r.procs === counts[0] && r.kind === 'refreshd' && !r.group.endsWith('-c1'))) {
      const cells = counts.map((n) => {
        const y = results.find((r) => r.procs === n && r.name === x.name);
        if (!y) return '- | -';
        return `${fmt(y.group === 'ingest' ? y.unitsPerSec : y.rps)} | ${pct((y.serverCpu ?? 0) + (y.dbCpu ?? 0))}`;
      });
      log(`| ${x.name.padEnd(58)} | ${cells.join(' | ')} |`);
    }
  }
  log(line);
  const firstCount = results.filter((x) => x.procs === counts[0]);
  ratios(firstCount);
  log(line);
  targets(firstCount, ctx.concurrency);
}

const x2 = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '-');
const per = (x: Measured) => (x.group === 'ingest' ? x.unitsPerSec : x.rps);
const unit = (x: Measured) => (x.group === 'ingest' ? 'URLs/s' : x.kind === 'store' ? 'calls/s' : 'req/s');

/** refreshd against the baselines, scenario by scenario: one `ratio` line each, then the table. */
function ratios(results: Measured[]) {
  const mine = results.filter((x) => x.kind === 'refreshd' && !x.group.endsWith('-c1'));
  const base = (x: Measured, kind: Kind) => results.find((y) => y.kind === kind && y.scenario === x.scenario);
  log('ratios: refreshd ÷ baseline of this run (bare = bench/bare-server.ts with the same load and signing; store = the store\'s own statements for the same questions, in the bench process)');
  log(`| ${'scenario'.padEnd(58)} | refreshd | bare | ÷ bare | store | ÷ store | refreshd p99 ms | bare p99 | ÷ bare | store p99 | ÷ store |`);
  log(`|${'-'.repeat(60)}|---|---|---|---|---|---|---|---|---|---|`);
  for (const x of mine) {
    const b = base(x, 'bare');
    const s = base(x, 'store');
    const t = (y?: Measured) => (y ? fmt(per(y)) : '-');
    const p = (y?: Measured) => (y ? ms(y.p99) : '-');
    log(`| ${x.scenario.padEnd(58)} | ${fmt(per(x))} | ${t(b)} | ${b ? x2(per(x) / per(b)) : '-'} | ${t(s)} | ${s ? x2(per(x) / per(s)) : '-'} | ${ms(x.p99)} | ${p(b)} | ${b ? x2(x.p99 / b.p99) : '-'} | ${p(s)} | ${s ? x2(x.p99 / s.p99) : '-'} |`);
  }
  for (const x of mine) {
    const parts: string[] = [];
    for (const kind of ['bare', 'store'] as const) {
      const b = base(x, kind);
      if (!b) continue;
      parts.push(`throughput ${x2(per(x) / per(b))} ${kind} (${fmt(per(x))} ÷ ${fmt(per(b))} ${unit(b)}), p99 ${x2(x.p99 / b.p99)} ${kind} (${ms(x.p99)} ÷ ${ms(b.p99)} ms)`);
    }
    if (parts.length) log(`ratio  ${x.scenario}: ${parts.join('; ')}`);
  }
}

function targets(results: Measured[], concurrency: number) {
  log('targets (each a ratio to a baseline measured in this run)');
  const pf = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const find = (kind: Kind, scenario: string) => results.find((y) => y.kind === kind && y.scenario === scenario);
  const mine = results.filter((x) => x.kind === 'refreshd' && !x.group.endsWith('-c1'));
  for (const x of mine.filter((r) => THROUGHPUT_JUDGED.includes(r.scenario))) {
    const b = find('bare', x.scenario);
    if (!b) continue;
    const r = x.rps / b.rps;
    log(`  ${pf(r >= TARGETS.throughputVsBare)}  ${x.scenario}: throughput ${x2(r)} the bare server's (refreshd ${fmt(x.rps)}/s ÷ bare server ${fmt(b.rps)}/s at c=${concurrency}); target ≥ ${TARGETS.throughputVsBare}×`);
    // The budget the target leaves: an API process serves on one event loop, so at most one core.
    if (x.serverCpu === undefined) continue;
    const used = (x.serverCpu / x.rps) * 1e6;
    const budget = 1e6 / (TARGETS.throughputVsBare * b.rps);
    log(`        CPU per call: refreshd's API process used ${used.toFixed(0)} µs; ${TARGETS.throughputVsBare}× the bare rate leaves one event loop ${budget.toFixed(0)} µs a call (${x2(budget / used)} of today's)`);
  }
  for (const x of mine.filter((r) => r.group === 'byid' || r.group === 'list')) {
    const b = find('bare', x.scenario);
    if (!b) continue;
    const r = x.p99 / b.p99;
    log(`  ${pf(r <= TARGETS.p99VsBare)}  ${x.scenario}: p99 at c=${concurrency} ${x2(r)} the bare server's (refreshd ${ms(x.p99)} ms ÷ bare server ${ms(b.p99)} ms); target ≤ ${TARGETS.p99VsBare}×`);
  }
  const ingest = mine.find((x) => x.group === 'ingest');
  const raw = ingest && find('store', ingest.scenario);
  if (ingest && raw) {
    const r = ingest.unitsPerSec / raw.unitsPerSec;
    log(`  ${pf(r >= TARGETS.ingestVsStore)}  RefreshObjectCaches: ${x2(r)} the raw insert loop (refreshd ${fmt(ingest.unitsPerSec)} URLs/s ÷ the store's own submit of the same batches ${fmt(raw.unitsPerSec)} URLs/s, ${ingest.concurrency} in flight each); target ≥ ${TARGETS.ingestVsStore}×`);
  }
  const c1 = results.filter((r) => r.kind === 'refreshd' && r.group.endsWith('-c1'));
  if (c1.length) {
    const w = c1.reduce((a, b) => (b.p99 > a.p99 ? b : a));
    log(`  (info, absolute) worst p99 with one request in flight: ${ms(w.p99)} ms (${w.name})`);
  }
}

/** Every failure of the run, after the tables; true when there was one. */
export function reportErrors(results: Measured[]): boolean {
  const bad = results.filter((x) => x.errors > 0 || x.mismatches > 0);
  if (bad.length) {
    log(`  RUN HAD ERRORS in ${bad.length} scenario(s):`);
    for (const x of bad) log(`    ${x.name} (${x.procs} proc): ${x.errors} errors, ${x.mismatches} mismatches; first: ${x.firstError}`);
  } else log('  every answer was HTTP 200 with the expected content');
  return bad.length > 0;
}
