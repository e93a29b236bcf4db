import { readdirSync, readFileSync } from 'node:fs';

/**
 * Who used the CPU during a measured step (Linux /proc, `fanout.ts --cpu`): the refreshd
 * server's main thread, its executor thread (the busiest other thread), its remaining threads
 * (V8's GC helpers, libuv's pool), all varnishd processes, and this bench process. /proc counts
 * in 10 ms ticks, so only averages over many reps mean anything.
 */
export type CpuSnapshot = Map<string, number>;

const PARTIES = ['refreshd main', 'refreshd executor', 'refreshd other threads', 'varnish', 'bench'] as const;

/** utime + stime of a /proc stat file, in ms. */
function cpuMs(statPath: string): number {
  const s = readFileSync(statPath, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Per thread of the server (by tid), per varnish process, and this process. */
export function snapshot(serverPid: number): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const tid of readdirSync(`/proc/${serverPid}/task`)) {
    try {
      out.set(tid === String(serverPid) ? 'main' : `thread:${tid}`, cpuMs(`/proc/${serverPid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm.startsWith('varnish') || comm.startsWith('cache-')) out.set(`varnish:${pid}`, cpuMs(`/proc/${pid}/stat`));
    } catch {
      // not ours to read, or gone
    }
  }
  out.set('bench', cpuMs(`/proc/${process.pid}/stat`));
  return out;
}

/** Sums per party of many (before, after) pairs, averaged: ms of CPU per rep. */
export class CpuSplit {
  private readonly sums = new Map<string, number>();
  private reps = 0;

  add(before: CpuSnapshot, after: CpuSnapshot): void {
    this.reps++;
    const threads: [string, number][] = [];
    for (const [key, ms] of after) {
      const d = ms - (before.get(key) ?? 0);
      if (key.startsWith('thread:')) threads.push([key, d]);
      else this.bump(key === 'main' ? 'refreshd main' : key.startsWith('varnish:') ? 'varnish' : 'bench', d);
    }
    // The executor thread is the server's busiest thread after main.
    threads.sort((a, b) => b[1] - a[1]);
    threads.forEach(([, d], i) => this.bump(i === 0 ? 'refreshd executor' : 'refreshd other threads', d));
  }

  /** ms of CPU per rep, by party. */
  perRep(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [party, ms] of this.sums) out[party] = ms / Math.max(1, this.reps);
    return out;
  }

  /** "party a.b ms, …" per rep, or '' before any rep. */
  toString(): string {
    if (this.reps === 0) return '';
    return PARTIES.filter((p) => this.sums.has(p)).map((p) => `${p} ${(this.sums.get(p)! / this.reps).toFixed(1)} ms`).join(', ');
  }

  private bump(party: string, ms: number): void {
    this.sums.set(party, (this.sums.get(party) ?? 0) + ms);
  }
}
