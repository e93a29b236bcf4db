import { setMaxListeners } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import type { EdgeJob, EdgeNode, Outcome } from '../edges/driver.js';
import { EdgeHttpClient } from '../edges/http-client.js';
import { createDrivers } from '../edges/registry.js';
import { executeVerified } from '../edges/verify.js';
import type { ExecutorOptions, FromExecutor, ToExecutor } from './executor.js';
import { OutcomeReports } from './outcome-reports.js';

/**
 * The executor thread (worker/executor.ts): runs attempts through the drivers with per-node
 * concurrency limits and reports outcomes in batches (outcome-reports.ts). It holds no queue
 * state: an attempt lost with this thread is still leased in the store, and its lease runs out
 * like a dead worker's.
 */
const opts = workerData as ExecutorOptions;
const http = new EdgeHttpClient({ connectionsPerNode: opts.perNodeConcurrency, timeoutMs: opts.requestTimeoutMs });
const drivers = createDrivers(http);
const stop = new AbortController();
// Every request in flight listens on this one signal.
setMaxListeners(0, stop.signal);

interface Pending {
  key: number;
  node: EdgeNode;
  job: EdgeJob;
}

/** One node: its limit, requests running, attempts waiting their turn in arrival order. */
interface Slot {
  limit: number;
  active: number;
  waiting: Pending[];
  head: number;
}

const nodes = new Map<number, Slot>();
/** The latest copy of each node (its address or options may have changed between claims). */
const byId = new Map<number, EdgeNode>();

/** Attempts this thread holds and has not reported: running, or waiting for their node. */
let held = 0;
const reports = new OutcomeReports((out) => parentPort!.postMessage({ t: 'done', out } satisfies FromExecutor));

/**
 * Every request has its own deadline (EdgeHttpClient), but a driver may take several steps (a
 * rule file and a reload): the attempt as a whole gets one too, so a driver that never settles
 * cannot hold its node's slot, and the worker's lease on it, for ever. Past it the attempt is a
 * retryable failure; whatever the driver still does is ignored. All attempts share one time
 * limit, so the one started first is always the first due: the attempts running wait in start
 * order and one timer, armed for the oldest, serves them all (a timer, a promise and a race per
 * attempt were ~5 % of this thread's CPU; docs/benchmarks.md, fan-out).
 */
interface Running {
  due: number;
  node: string;
  settled: boolean;
  settle: (o: Outcome) => void;
}
let byAge: Running[] = [];
let oldest = 0;
let deadlines: NodeJS.Timeout | undefined;

function expire(): void {
  deadlines = undefined;
  const now = performance.now();
  while (oldest < byAge.length && (byAge[oldest].settled || byAge[oldest].due <= now)) {
    const r = byAge[oldest++];
    if (!r.settled) r.settle({ kind: 'retryable', error: `attempt on ${r.node} did not finish within ${opts.attemptTimeoutMs} ms` });
  }
  forgetSettled();
  // Attempts started meanwhile (in the slots the expired ones freed) may have armed a timer for
  // their own, later deadline: one timer, for the oldest.
  clearTimeout(deadlines);
  deadlines = oldest < byAge.length ? setTimeout(expire, byAge[oldest].due - now) : undefined;
}

/** Drop the settled attempts at the head of the queue (most finish in the order they started). */
function forgetSettled(): void {
  while (oldest < byAge.length && byAge[oldest].settled) oldest++;
  if (oldest === byAge.length) {
    byAge = [];
    oldest = 0;
  } else if (oldest > 1024 && oldest * 2 > byAge.length) {
    byAge = byAge.slice(oldest);
    oldest = 0;
  }
}

function start(p: Pending, slot: Slot): void {
  slot.active++;
  const driver = drivers[p.node.driver];
  const started = performance.now();
  const r: Running = {
    due: started + opts.attemptTimeoutMs,
    node: p.node.name,
    settled: false,
    settle: (o) => {
      if (r.settled) return;
      r.settled = true;
      forgetSettled();
      slot.active--;
      // The slot passes straight to the next attempt waiting for this node.
      if (slot.head < slot.waiting.length) start(slot.waiting[slot.head++], slot);
      reports.add(p.key, o, performance.now() - started, --held);
      // The queue is read from `head` (shift() is O(n)); drop the part already read now and then.
      if (slot.head > 1024 && slot.head * 2 > slot.waiting.length) {
        slot.waiting = slot.waiting.slice(slot.head);
        slot.head = 0;
      }
    },
  };
  byAge.push(r);
  deadlines ??= setTimeout(expire, opts.attemptTimeoutMs);
  const attempt: Promise<Outcome> = driver
    ? executeVerified(driver, p.node, p.job, stop.signal)
    : Promise.resolve({ kind: 'permanent', error: `no driver named ${p.node.driver}`, description: 'Internal Error' });
  attempt.then(r.settle, (err: unknown) => r.settle({ kind: 'retryable', error: `driver ${p.node.driver} threw: ${(err as Error)?.message ?? String(err)}` }));
}

function run(msg: Extract<ToExecutor, { t: 'run' }>): void {
  for (const [id, node, limit] of msg.nodes) {
    const slot = nodes.get(id);
    if (slot) slot.limit = limit;
    else nodes.set(id, { limit, active: 0, waiting: [], head: 0 });
    byId.set(id, node);
  }
  const a = msg.attempts;
  held += a.length / 3;
  for (let i = 0; i < a.length; i += 3) {
    const p: Pending = { key: a[i], node: byId.get(a[i + 1])!, job: msg.jobs[a[i + 2]] };
    const slot = nodes.get(p.node.id)!;
    if (slot.active < slot.limit) start(p, slot);
    else slot.waiting.push(p);
  }
}

/** Attempts whose task was canceled: those still waiting for their node are taken out and reported dropped. */
function drop(keys: number[]): void {
  const gone = new Set(keys);
  const dropped: number[] = [];
  for (const slot of nodes.values()) {
    const left = slot.waiting.slice(slot.head).filter((p) => !gone.has(p.key));
    if (left.length === slot.waiting.length - slot.head) continue;
    for (let i = slot.head; i < slot.waiting.length; i++) {
      const p = slot.waiting[i];
      if (gone.has(p.key)) dropped.push(p.key);
    }
    slot.waiting = left;
    slot.head = 0;
  }
  held -= dropped.length;
  reports.dropped(dropped);
}

parentPort!.on('message', (msg: ToExecutor) => {
  if (msg.t === 'run') run(msg);
  else if (msg.t === 'drop') drop(msg.keys);
  else if (msg.t === 'abort') stop.abort(new Error('worker stopping'));
});
