/**
 * Load generator for the benchmarks: V1 (HMAC-SHA1) signed RPC calls over an undici keep-alive
 * Pool, a bounded closed-loop runner (fixed concurrency, stops after N requests or S seconds,
 * whichever comes first) and latency percentiles.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { canonicalQuery, formatUtc, percentEncode } from '../src/protocol/encoding.js';
import { v1Sign, v1StringToSign } from '../src/protocol/signature-v1.js';

export interface Credentials {
  accessKeyId: string;
  secret: string;
}

const NONCE_PREFIX = randomBytes(6).toString('hex');
let nonceCounter = 0;

/**
 * Encode and sign one call with the legacy RPC scheme (SignatureVersion 1.0): every parameter is
 * signed, `Signature` is appended last. Returns the `k=v&…` text for the query or the form body.
 */
export function signV1(method: 'GET' | 'POST', action: string, params: Record<string, string>, cred: Credentials, now = Date.now()): string {
  const p = new Map<string, string>([
    ['Action', action],
    ['Version', '2018-05-10'],
    ['Format', 'JSON'],
    ['AccessKeyId', cred.accessKeyId],
    ['SignatureMethod', 'HMAC-SHA1'],
    ['SignatureVersion', '1.0'],
    ['SignatureNonce', `${NONCE_PREFIX}-${(nonceCounter++).toString(36)}`],
    ['Timestamp', formatUtc(now)],
  ]);
  for (const [k, v] of Object.entries(params)) p.set(k, v);
  const signature = v1Sign(v1StringToSign(method, p), cred.secret);
  return `${canonicalQuery(p)}&Signature=${percentEncode(signature)}`;
}

export interface Call {
  method: 'GET' | 'POST';
  /** Path and query. */
  path: string;
  body?: string;
  /** Inspect a 200 answer; return false when it is not what the scenario expected. */
  check?: (json: any) => boolean;
  /** Units of work in this call (e.g. URLs submitted), for throughput in units/s. */
  units?: number;
}

export interface RunOptions {
  name: string;
  concurrency: number;
  maxRequests: number;
  maxSeconds: number;
  make: () => Call;
  /** Server pids (one per API process), to report their CPU use during the run. */
  serverPids?: number[];
  /** The database server's pid (PostgreSQL's postmaster): its CPU and its backends' is reported apart. */
  dbPid?: number;
}

export interface RunResult {
  name: string;
  concurrency: number;
  requests: number;
  seconds: number;
  rps: number;
  unitsPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Non-200 answers and transport failures. */
  errors: number;
  /** 200 answers whose content did not match (e.g. no rows for an id that exists). */
  mismatches: number;
  firstError?: string;
  serverCpu?: number;
  /** Cores used by the database server (PostgreSQL) during the run. */
  dbCpu?: number;
  clientCpu: number;
  /** CPU used by everything else on the machine during the run (noise), in cores. */
  otherCpu?: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a process and its children: the live ones (PostgreSQL backends are children of
 * the postmaster) and those that exited and were waited for (cutime/cstime of the parent).
 */
export function treeCpuSeconds(pid: number): number | undefined {
  const fields = (p: number | string) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined;
    }
  };
  const root = fields(pid);
  if (!root) return undefined;
  let ticks = Number(root[11]) + Number(root[12]) + Number(root[13]) + Number(root[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = fields(entry);
    if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100;
}

/** CPU seconds the system under test has used: the API processes and the database server. */
export function sutCpuSeconds(serverPids: number[], dbPid?: number): { server?: number; db?: number } {
  let server: number | undefined = serverPids.length > 0 ? 0 : undefined;
  for (const pid of serverPids) {
    const s = procCpuSeconds(pid);
    server = s === undefined || server === undefined ? undefined : server + s;
  }
  return { server, db: dbPid === undefined ? undefined : treeCpuSeconds(dbPid) };
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
  } catch {
    return undefined;
  }
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** What one call of a closed loop came to. */
export type CallOutcome = { units: number } | { error: string } | { mismatch: string };

/**
 * The closed loop every runner shares: `concurrency` workers, each starting its next call when
 * the last one ended, until `maxRequests` or `maxSeconds`. `once(k)` makes worker k's call.
 * `local`: the calls run in this process (the store's own statements), so this process's CPU
 * is the system under test's.
 */
async function closedLoop(o: Omit<RunOptions, 'make'>, once: (k: number) => Promise<CallOutcome>, local = false): Promise<RunResult> {
  const latencies = new Float64Array(o.maxRequests);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let mismatches = 0;
  let units = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + o.maxSeconds * 1000;
  const sut0 = sutCpuSeconds(o.serverPids ?? [], o.dbPid);
  const client0 = process.cpuUsage();
  const busy0 = machineBusySeconds();

  const worker = async (_: unknown, k: number) => {
    while (issued < o.maxRequests && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      let out: CallOutcome;
      try {
        out = await once(k);
      } catch (err) {
        out = { error: `transport: ${(err as Error).message}` };
      }
      latencies[done++] = performance.now() - t0;
      if ('units' in out) units += out.units;
      else if ('error' in out) (errors++, (firstError ??= out.error));
      else (mismatches++, (firstError ??= out.mismatch));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const sut1 = sutCpuSeconds(o.serverPids ?? [], o.dbPid);
  const client = process.cpuUsage(client0);
  const busy1 = machineBusySeconds();
  const sorted = latencies.slice(0, done).sort();
  const delta = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (b - a) / seconds : undefined);
  const clientCpu = (client.user + client.system) / 1e6 / seconds;
  const server = local ? clientCpu : delta(sut0.server, sut1.server);
  const db = delta(sut0.db, sut1.db);
  return {
    name: o.name,
    concurrency: o.concurrency,
    requests: done,
    seconds,
    rps: done / seconds,
    unitsPerSec: units / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    errors,
    mismatches,
    firstError,
    serverCpu: server,
    dbCpu: db,
    clientCpu,
    otherCpu: busy0 !== undefined && busy1 !== undefined && server !== undefined && (db !== undefined || o.dbPid === undefined)
      ? Math.max(0, (busy1 - busy0) / seconds - (local ? 0 : server) - (db ?? 0) - clientCpu)
      : undefined,
  };
}

/**
 * Closed loop of HTTP calls; with several pools (one per API process) worker k sends to pool
 * k mod n. `bodies`: keep up to `keep` answer bodies (what the bare server answers with).
 */
export async function run(pools: Pool | Pool[], o: RunOptions & { bodies?: string[]; keep?: number }): Promise<RunResult> {
  const list = Array.isArray(pools) ? pools : [pools];
  return closedLoop(o, async (k) => {
    const call = o.make();
    const res = await list[k % list.length].request({
      method: call.method,
      path: call.path,
      body: call.body,
      headers: call.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : undefined,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return { error: `HTTP ${res.statusCode}: ${text.slice(0, 300)}` };
    if (o.bodies && o.bodies.length < (o.keep ?? 0)) o.bodies.push(text);
    if (call.check && !call.check(JSON.parse(text))) return { mismatch: `unexpected answer for ${call.path.slice(0, 200)}: ${text.slice(0, 300)}` };
    return { units: call.units ?? 1 };
  });
}

/** Closed loop of calls made in this process (`make` gives the next one; it resolves to its units). */
export async function runLocal(o: Omit<RunOptions, 'make'> & { make: () => () => Promise<number> }): Promise<RunResult> {
  return closedLoop(o, async () => ({ units: await o.make()() }), true);
}
