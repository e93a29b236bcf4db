/**
 * Where a server's busy time went, from a V8 CPU profile (`describe.ts --profile DIR` writes one
 * per API process): each sample is counted once, under the first share below that one of its
 * frames falls in, walking from the leaf up — so time in a native call (a statement's step, an
 * HMAC) counts for the refreshd code that made it. Idle time is left out of the percentages.
 *
 *   node --import tsx bench/profile-split.ts DIR/CPU.….cpuprofile [--top N]
 *
 * Prints the shares (of busy time, and µs per call when --calls N gives the calls served while
 * profiling) and the top self-time functions, so a profile table in docs/benchmarks.md can be
 * made again from the same file.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Frame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: Frame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Shares in the order a frame is tested against them; the first whose test a frame passes takes the sample. */
const SHARES: [string, (f: Frame) => boolean][] = [
  ['writev (sending the answer)', (f) => f.functionName === 'writev' || f.functionName === 'writevGeneric' || f.functionName === 'writeGeneric'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['the query (statement + row mapping)', (f) => /\/(item-reads|tasks)\.js$/.test(f.url) || /\bdomain\/describe\.js$/.test(f.url)],
  ['key + account lookup', (f) => /\/(identity|credential-cache|keys|busy)\.js$/.test(f.url)],
  ['signature (V1/V3)', (f) => /\/signature-v[13]\.js$/.test(f.url) || (/\/authenticate\.js$/.test(f.url) && /safeEqual|Sign/.test(f.functionName))],
  ['nonce check + log', (f) => /\/nonce-(cache|log)\.js$/.test(f.url) || f.functionName === 'useNonce'],
  ['parameter parsing + validation', (f) => /\/(request|encoding|validate)\.js$/.test(f.url)],
  ['audit record + batched insert', (f) => /\/identity\/audit\.js$/.test(f.url) || /\/sqlite\/audit\.js$/.test(f.url)],
  ['rendering the answer (JSON/XML)', (f) => /\/serialize\.js$/.test(f.url)],
  ['metrics', (f) => /prom-client|\/ops-routes\.js$/.test(f.url)],
  ['authentication (rest)', (f) => /\/authenticate\.js$/.test(f.url)],
  ['dispatch + RPC route', (f) => /\/(handle-rpc|dispatch|handlers|server|authorize)\.js$/.test(f.url) || /\/api\/actions\//.test(f.url)],
  ['better-sqlite3 (other)', (f) => /better-sqlite3/.test(f.url)],
  ['fastify (routing, hooks, reply)', (f) => /\/(fastify|find-my-way|avvio|light-my-request)\//.test(f.url)],
  ['pino (logging)', (f) => /\/pino/.test(f.url)],
  ["Node's HTTP, sockets, streams, timers", (f) => /^node:(_http|http|net|stream|internal\/(streams|http|timers)|events|timers)/.test(f.url) || /^node:internal\/(process\/task_queues|async_hooks)/.test(f.url)],
];

const { values: args, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' }, calls: { type: 'string' } }, allowPositionals: true });
if (positionals.length !== 1) throw new Error('usage: profile-split.ts FILE.cpuprofile [--top N] [--calls N]');
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const share = new Map<string, number>();
const self = new Map<string, number>();
let busy = 0;
let idle = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const leaf = byId.get(id)!.callFrame;
  if (leaf.functionName === '(idle)') return void (idle += dt);
  busy += dt;
  const selfKey = `${leaf.functionName || '(anon)'} ${leaf.url.split('/').slice(-2).join('/')}:${leaf.lineNumber + 1}`;
  self.set(selfKey, (self.get(selfKey) ?? 0) + dt);
  let name = 'the rest';
  outer: for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const f = byId.get(n)!.callFrame;
    for (const [label, test] of SHARES) {
      if (test(f)) {
        name = label;
        break outer;
      }
    }
  }
  share.set(name, (share.get(name) ?? 0) + dt);
});

const calls = args.calls ? Number(args.calls) : undefined;
const pct = (x: number) => `${((100 * x) / busy).toFixed(1).padStart(5)} %`;
const perCall = (x: number) => (calls ? `  ${(x / calls).toFixed(1).padStart(6)} µs/call` : '');
process.stdout.write(`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s${calls ? `, ${calls} calls: ${(busy / calls).toFixed(0)} µs busy per call` : ''}\n`);
for (const [name, t] of [...share].sort((a, b) => b[1] - a[1])) process.stdout.write(`${pct(t)}${perCall(t)}  ${name}\n`);
process.stdout.write(`--- top ${args.top} functions by self time (of busy time)\n`);
for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) process.stdout.write(`${pct(t)}  ${name}\n`);
