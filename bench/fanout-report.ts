/**
 * Output of the fan-out benchmark (bench/fanout.ts): the tables, then one PASS/FAIL line per
 * target with the figure, the limit and the baseline it was divided by (measured in the same run).
 *
 * Targets (issue 18): a 3 Varnish cell is judged against the bare script that sends the same
 * purges the way refreshd does (pipelined, 8 in flight on one connection per node), since
 * absolute times and an unpipelined baseline do not travel between machines. Issue 14's looser
 * probe targets (against purges+probes and against purges only) and issue 17's purge-then-warm
 * target are judged too.
 */

import { availableParallelism } from 'node:os';

export type Fleet = 'varnish' | 'varnish-ack' | 'simulated' | 'purge-warm';

/** One cell's samples, ms per task (warm-up reps left out). */
export interface Cell {
  fleet: Fleet;
  label: string;
  urls: number;
  /** refreshd: submit → WaitForTasks answered Done. */
  ours: number[];
  /** Bare purges, 8 connections per node (Varnish), the simulated driver called directly, or (purge-warm) bare purges then GETs. */
  bare: number[];
  /** Bare purges pipelined as refreshd pipelines them (Varnish only). */
  barePiped: number[];
  /** Bare purge, then its probe right behind it, pipelined (the probe group only). */
  bareProbed: number[];
  cpu?: string;
  /** ms of CPU per rep in refreshd's run, by party (cpu-split.ts), with --cpu. */
  cpuOurs?: Record<string, number>;
}

export const LIMITS = {
  /** refreshd p50 / pipelined bare purge p50, 3 Varnish, verify: ack, 100 and 1,000 URLs. */
  ackRatio: 1.2,
  /** refreshd p50 / pipelined bare purge+probe p50, 3 Varnish, verify: probe, 100 and 1,000 URLs. */
  probeRatio: 1.3,
  /** One URL on 3 Varnish, p50 in ms (both groups). */
  singleMs: 5,
  /** Issue 14: refreshd p50 / pipelined bare purge+probe p50, verify: probe, 100 and 1,000 URLs. */
  probeRatioLoose: 1.5,
  /** Issue 14: refreshd p50 / pipelined bare purge-only p50, verify: probe, 100 and 1,000 URLs. */
  probeOverPurges: 2.5,
  /** refreshd p50 / bare p50, simulated fleet (the bare side calls the same driver). */
  simRatio: 1.5,
  /** Issue 17: PreloadAfter on 3 Varnish × 100 URLs / a bare script that purges, then GETs, per node. */
  purgeWarmRatio: 1.5,
} as const;

export const BASELINES = {
  piped: 'bare purges pipelined 8 deep on 1 connection per node',
  probed: 'bare purge+probe pipelined 8 deep on 1 connection per node',
  conns: 'bare purges on 8 connections per node',
  sim: 'the simulated driver called directly, 8 per node',
  purgeWarm: 'bare purges (pipelined) then GETs (8 connections) per node, probing as refreshd does on the probe group',
} as const;

export const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
const ratio = (a: number[], b: number[]) => (b.length === 0 ? undefined : pct(a, 50) / pct(b, 50));
const r2 = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2));

export interface Verdict {
  target: string;
  value: number;
  limit: number;
  unit: '×' | 'ms';
  baseline: string;
  pass: boolean;
}

/** Every target a cell of this run can be judged on. */
export function verdicts(cells: Cell[]): Verdict[] {
  const out: Verdict[] = [];
  const judge = (target: string, value: number | undefined, limit: number, unit: Verdict['unit'], baseline: string) => {
    if (value !== undefined) out.push({ target, value, limit, unit, baseline, pass: value <= limit });
  };
  for (const c of cells) {
    if (c.fleet === 'purge-warm') {
      judge(`${c.label} × ${c.urls} URLs, p50 ratio`, ratio(c.ours, c.bare), LIMITS.purgeWarmRatio, '×', BASELINES.purgeWarm);
    } else if (c.fleet !== 'simulated' && c.urls === 1) {
      judge(`3 Varnish (${c.fleet === 'varnish' ? 'probe' : 'ack'}) × 1 URL, refreshd p50`, pct(c.ours, 50), LIMITS.singleMs, 'ms', 'absolute (bare pipelined purge p50 ' + ms(pct(c.barePiped, 50)) + ' ms)');
    } else if (c.fleet === 'varnish-ack') {
      judge(`3 Varnish (ack) × ${c.urls} URLs, p50 ratio`, ratio(c.ours, c.barePiped), LIMITS.ackRatio, '×', BASELINES.piped);
    } else if (c.fleet === 'varnish') {
      judge(`3 Varnish (probe) × ${c.urls} URLs, p50 ratio`, ratio(c.ours, c.bareProbed), LIMITS.probeRatio, '×', BASELINES.probed);
      judge(`3 Varnish (probe) × ${c.urls} URLs, p50 ratio (issue 14)`, ratio(c.ours, c.bareProbed), LIMITS.probeRatioLoose, '×', BASELINES.probed);
      judge(`3 Varnish (probe) × ${c.urls} URLs, p50 ratio to purges only (issue 14)`, ratio(c.ours, c.barePiped), LIMITS.probeOverPurges, '×', BASELINES.piped);
    } else {
      judge(`${c.label} × ${c.urls} URLs, p50 ratio`, ratio(c.ours, c.bare), LIMITS.simRatio, '×', BASELINES.sim);
    }
  }
  return out;
}

export function report(cells: Cell[], header: string, zeroFleet: boolean): Verdict[] {
  const log = (s = '') => process.stdout.write(s + '\n');
  log(`\n${header}\n`);
  log('| fleet | URLs | reps | refreshd p50 / p99 ms | bare pipelined p50 / p99 ms | ratio | bare purge+probe pipelined p50 ms | ratio | bare 8 connections (simulated: the driver; purge-then-warm: purges then GETs) p50 ms | ratio |');
  log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of cells) {
    log(`| ${c.label} | ${c.urls} | ${c.ours.length} | ${ms(pct(c.ours, 50))} / ${ms(pct(c.ours, 99))} | ${c.barePiped.length ? `${ms(pct(c.barePiped, 50))} / ${ms(pct(c.barePiped, 99))}` : '-'} | ${r2(ratio(c.ours, c.barePiped))} | ${c.bareProbed.length ? ms(pct(c.bareProbed, 50)) : '-'} | ${r2(ratio(c.ours, c.bareProbed))} | ${ms(pct(c.bare, 50))} | ${r2(ratio(c.ours, c.bare))} |`);
  }
  const cpu = cells.filter((c) => c.cpu);
  if (cpu.length > 0) log(`\n${cpu.map((c) => `${c.label} × ${c.urls}, CPU per rep: ${c.cpu}`).join('\n')}`);
  const floors = cells.map(cpuFloor).filter((f): f is string => f !== undefined);
  if (floors.length > 0) log(`\n${floors.join('\n')}`);
  const all = verdicts(cells);
  if (zeroFleet) {
    log('\n--zero-fleet: refreshd ran against nodes that answer at once; no target is judged.');
    return [];
  }
  log('');
  for (const v of all) {
    const figure = v.unit === 'ms' ? `${v.value.toFixed(1)} ms` : `${v.value.toFixed(2)}×`;
    log(`target ${v.target} ≤ ${v.limit}${v.unit === 'ms' ? ' ms' : '×'}: ${v.pass ? 'PASS' : 'FAIL'} (${figure}; baseline: ${v.baseline})`);
  }
  return all;
}

/**
 * The CPU floor of a ratio cell (`--cpu`): the whole machine's CPU that refreshd's run used per
 * task (refreshd's threads, Varnish, the bench's own client), spread over every core with no
 * idle moment, is the shortest wall time any schedule could reach; divided by the baseline's p50
 * it is the lowest ratio this machine allows without cutting CPU. And the reverse: the CPU per
 * task that refreshd may use for the target to be reachable at all, with Varnish and the client
 * costing what they did. When the floor is above the target, overlapping work cannot pass it;
 * only spending less CPU can.
 */
export function cpuFloor(c: Cell): string | undefined {
  const base = c.fleet === 'varnish-ack' ? c.barePiped : c.fleet === 'varnish' ? c.bareProbed : [];
  if (!c.cpuOurs || c.urls === 1 || base.length === 0) return undefined;
  const limit = c.fleet === 'varnish-ack' ? LIMITS.ackRatio : LIMITS.probeRatio;
  const cores = availableParallelism();
  const ours = (c.cpuOurs['refreshd main'] ?? 0) + (c.cpuOurs['refreshd executor'] ?? 0) + (c.cpuOurs['refreshd other threads'] ?? 0);
  const others = (c.cpuOurs.varnish ?? 0) + (c.cpuOurs.bench ?? 0);
  const b = pct(base, 50);
  const floor = (ours + others) / cores;
  const budget = limit * b * cores - others;
  return (
    `CPU floor, ${c.label} × ${c.urls}: refreshd's run used ${(ours + others).toFixed(1)} ms of CPU per task (refreshd ${ours.toFixed(1)}, Varnish and the bench's client ${others.toFixed(1)}); ` +
    `on ${cores} cores no schedule ends it under ${floor.toFixed(1)} ms = ${(floor / b).toFixed(2)}× the baseline (target ${limit}×). ` +
    `For ${limit}× refreshd may use at most ${Math.max(0, budget).toFixed(1)} ms of CPU per task: ${(Math.max(0, budget) / ours).toFixed(2)}× what it used.`
  );
}
