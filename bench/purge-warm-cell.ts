/**
 * The purge-then-warm cell of bench/fanout.ts (`--only purge-warm:100` runs it alone): 100 URLs
 * cached on the 3 Varnish nodes, then
 * - refreshd: one RefreshObjectCaches with PreloadAfter=true, from the submit until WaitForTasks
 *   says every row is Complete (every node purged, then preloaded, each URL);
 * - bare: a script that, on each node at once, sends the same 100 PURGEs (pipelined, 8 in flight
 *   on one connection, as refreshd sends them) and, once that node has answered them all, the same
 *   100 GETs (8 connections, as refreshd's preloads go), each fetching from the origin.
 * With `probe` (a group that verifies by probe, refreshd's default), refreshd looks at each
 * node's cache after every purge and every preload, and so does the bare script: a probe of the
 * URL right behind each PURGE on the pipelined connection (answered 404), and one after each GET
 * (answered 200, a hit). Which side goes first alternates per rep; both start from the same
 * cached state, on URLs of their own. Each side must fetch every URL from the origin exactly once per node, or the bench
 * stops: a preload that reached a node before its purge would be a HIT and fetch nothing.
 */
import { Agent, request } from 'undici';
import type { Origin } from '../test/edges/harness/origin.js';
import type { Varnish } from '../test/edges/harness/varnish.js';
import { CpuSplit, snapshot } from './cpu-split.js';

export interface PurgeWarmCell {
  /** A signed API call to the refreshd under test. */
  call(method: 'GET' | 'POST', action: string, params: Record<string, string>): Promise<Record<string, any>>;
  varnishes: Varnish[];
  origin: Origin;
  /** The domain, served by the Varnish group, whose origin is `origin`. */
  host: string;
  urls: number;
  /** The domain's group verifies by probe: the bare script probes as refreshd does. */
  probe: boolean;
  reps: number;
  warmup: number;
  /** `--cpu`: the refreshd server's pid, to split each side's CPU by party (cpu-split.ts). */
  cpuOf?: number;
}

const PER_NODE = 8;

export async function runPurgeWarmCell(c: PurgeWarmCell): Promise<{ ours: number[]; bare: number[]; cpu?: { ours: CpuSplit; bare: CpuSplit } }> {
  const piped = new Agent({ connections: 1, pipelining: PER_NODE });
  const plain = new Agent({ connections: PER_NODE });
  let seq = 0;
  const pathsOf = () => {
    const s = seq++;
    return Array.from({ length: c.urls }, (_, i) => `/ptw/${s}/${i}.js`);
  };
  const get = async (v: Varnish, path: string) => {
    const res = await request(`http://${v.address}${path}`, { dispatcher: plain, headers: { host: c.host } });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`GET ${path} on ${v.address}: ${res.statusCode}`);
  };
  const cacheAll = (paths: string[]) => Promise.all(c.varnishes.map(async (v) => { for (const p of paths) await get(v, p); }));
  /** Every path fetched from the origin exactly once per node since `before`. */
  const fetchedOncePerNode = (paths: string[], before: number[], who: string) => {
    paths.forEach((p, i) => {
      const n = (c.origin.hits.get(p) ?? 0) - before[i];
      if (n !== c.varnishes.length) throw new Error(`${who}: ${p} fetched ${n} times from the origin, not once per node`);
    });
  };

  const refreshd = async (paths: string[]) => {
    const t0 = performance.now();
    const ids = (await c.call('POST', 'RefreshObjectCaches', { ObjectPath: paths.map((p) => `http://${c.host}${p}`).join('\n'), PreloadAfter: 'true' })).RefreshTaskId as string;
    for (;;) {
      const r = await c.call('GET', 'WaitForTasks', { TaskId: ids, Timeout: '60' });
      if (!r.Done) continue;
      const elapsed = performance.now() - t0;
      const bad = r.Tasks.filter((t: any) => t.Status !== 'Complete');
      if (bad.length > 0) throw new Error(`purge-then-warm task ${ids} did not complete: ${JSON.stringify(bad[0])}`);
      return elapsed;
    }
  };
  /** A request on the node's pipelined connection, answered `status`. */
  const pipelined = async (v: Varnish, method: string, path: string, status: number, headers: Record<string, string> = {}) => {
    const res = await request(`http://${v.address}${path}`, { dispatcher: piped, method, headers: { host: c.host, ...headers }, idempotent: true, blocking: false });
    await res.body.dump();
    if (res.statusCode !== status) throw new Error(`bare ${method} ${path} answered ${res.statusCode}, not ${status}`);
  };
  const probe = (v: Varnish, p: string, status: number) => pipelined(v, 'GET', p, status, { 'x-cache-probe': '1' });
  const bare = async (paths: string[]) => {
    const t0 = performance.now();
    await Promise.all(c.varnishes.map(async (v) => {
      // The probe goes right behind its PURGE on the same connection, as refreshd sends them.
      await Promise.all(paths.map((p) => Promise.all([pipelined(v, 'PURGE', p, 200), c.probe ? probe(v, p, 404) : undefined])));
      await Promise.all(paths.map(async (p) => {
        await get(v, p);
        if (c.probe) await probe(v, p, 200);
      }));
    }));
    return performance.now() - t0;
  };

  const ours: number[] = [];
  const theirs: number[] = [];
  const cpu = c.cpuOf === undefined ? undefined : { refreshd: new CpuSplit(), bare: new CpuSplit() };
  for (let r = 0; r < c.warmup + c.reps; r++) {
    const sides = [[refreshd, ours, 'refreshd'], [bare, theirs, 'bare']] as const;
    for (const [run, into, who] of r % 2 === 0 ? sides : [...sides].reverse()) {
      const paths = pathsOf();
      await cacheAll(paths);
      const before = paths.map((p) => c.origin.hits.get(p) ?? 0);
      const s0 = cpu && snapshot(c.cpuOf!);
      const ms = await run(paths);
      if (cpu && r >= c.warmup) cpu[who].add(s0!, snapshot(c.cpuOf!));
      fetchedOncePerNode(paths, before, who);
      if (r >= c.warmup) into.push(ms);
    }
  }
  await piped.close();
  await plain.close();
  return { ours, bare: theirs, cpu: cpu && { ours: cpu.refreshd, bare: cpu.bare } };
}
