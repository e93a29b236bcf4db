import { setMaxListeners } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import type { EdgeJob, EdgeNode, Outcome } from '../edges/driver.js';
import { EdgeHttpClient } from '../edges/http-client.js';
import { createDrivers } from '../edges/registry.js';
import { executeVerified } from '../edges/verify.js';
import type { ExecutorOptions, FromExecutor, ToExecutor } from './executor.js';

/**
 * The executor thread (worker/executor.ts): runs attempts through the drivers with per-node
 * concurrency limits and reports outcomes in batches. It holds no queue state: an attempt lost
 * with this thread is still leased in the store, and its lease runs out like a dead worker's.
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

/** Outcomes since the last report: key, kind, ms, error, description, verified by, flat. */
let out: (number | string)[] = [];
let scheduled = false;
// As executor.ts reads them (KINDS, DROPPED_KIND); only types are imported from there, so the thread loads no more than it runs.
const KIND = { ok: 0, retryable: 1, permanent: 2, dropped: 3 } as const;
const BATCH_MS = 1;

/** Requests running on all nodes: when none is left, what is reported goes out at once. */
let running = 0;
let timer: NodeJS.Timeout | undefined;

/**
 * Outcomes travel in batches: every message costs both threads a wake-up and a turn of their
 * event loops (~100 messages for a 300-attempt task when each turn sent its own). While other
 * requests still run, outcomes wait up to BATCH_MS for company; the last of a burst (nothing
 * else running) go at the end of this turn.
 */
function report(key: number, o: Outcome, ms: number): void {
  out.push(key, KIND[o.kind], ms, o.kind === 'ok' ? '' : o.error, o.kind === 'permanent' ? o.description : '', o.verifiedBy ?? '');
  if (running > 0) timer ??= setTimeout(send, BATCH_MS);
  else if (!scheduled) {
    scheduled = true;
    setImmediate(send);
  }
}

function send(): void {
  scheduled = false;
  clearTimeout(timer);
  timer = undefined;
  if (out.length === 0) return;
  const msg: FromExecutor = { t: 'done', out };
  out = [];
  parentPort!.postMessage(msg);
}

function start(p: Pending, slot: Slot): void {
  slot.active++;
  running++;
  const driver = drivers[p.node.driver];
  const started = performance.now();
  const attempt: Promise<Outcome> = driver
    ? executeVerified(driver, p.node, p.job, stop.signal)
    : Promise.resolve({ kind: 'permanent', error: `no driver named ${p.node.driver}`, description: 'Internal Error' });
  // Every request has its own deadline (EdgeHttpClient), but a driver may take several steps (a
  // rule file and a reload): the attempt as a whole gets one too, so a driver that never settles
  // cannot hold its node's slot, and the worker's lease on it, for ever. Past it the attempt is a
  // retryable failure; whatever the driver still does is ignored.
  let deadline: NodeJS.Timeout | undefined;
  const overdue = new Promise<Outcome>((resolve) => {
    deadline = setTimeout(() => resolve({ kind: 'retryable', error: `attempt on ${p.node.name} did not finish within ${opts.attemptTimeoutMs} ms` }), opts.attemptTimeoutMs);
  });
  Promise.race([
    attempt.catch((err: unknown): Outcome => ({ kind: 'retryable', error: `driver ${p.node.driver} threw: ${(err as Error)?.message ?? String(err)}` })),
    overdue,
  ]).then((o) => {
    clearTimeout(deadline);
    slot.active--;
    running--;
    // The slot passes straight to the next attempt waiting for this node (before the report,
    // so `running` counts it).
    if (slot.head < slot.waiting.length) start(slot.waiting[slot.head++], slot);
    report(p.key, o, performance.now() - started);
    // The queue is read from `head` (shift() is O(n)); drop the part already read now and then.
    if (slot.head > 1024 && slot.head * 2 > slot.waiting.length) {
      slot.waiting = slot.waiting.slice(slot.head);
      slot.head = 0;
    }
  });
}

function run(msg: Extract<ToExecutor, { t: 'run' }>): void {
  for (const [id, node, limit] of msg.nodes) {
    const slot = nodes.get(id);
    if (slot) slot.limit = limit;
    else nodes.set(id, { limit, active: 0, waiting: [], head: 0 });
    byId.set(id, node);
  }
  const a = msg.attempts;
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
  for (const slot of nodes.values()) {
    const left = slot.waiting.slice(slot.head).filter((p) => !gone.has(p.key));
    if (left.length === slot.waiting.length - slot.head) continue;
    for (let i = slot.head; i < slot.waiting.length; i++) {
      const p = slot.waiting[i];
      if (gone.has(p.key)) out.push(p.key, KIND.dropped, 0, '', '', '');
    }
    slot.waiting = left;
    slot.head = 0;
  }
  if (out.length > 0) send();
}

parentPort!.on('message', (msg: ToExecutor) => {
  if (msg.t === 'run') run(msg);
  else if (msg.t === 'drop') drop(msg.keys);
  else if (msg.t === 'abort') stop.abort(new Error('worker stopping'));
});
