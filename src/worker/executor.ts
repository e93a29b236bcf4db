import { Worker as Thread } from 'node:worker_threads';
import type { Logger } from 'pino';
import { toEdgeTarget, type EdgeJob, type EdgeNode, type GroupVerify, type Outcome, type VerifiedBy } from '../edges/driver.js';
import { CANCELED_ERROR } from '../domain/records.js';
import { parseWithHeader } from '../domain/with-header.js';
import type { ClaimedAttempt } from '../store/port.js';

/**
 * Runs claimed attempts on the cache nodes in a worker thread (executor-thread.ts), so the HTTP
 * fan-out and the store's bookkeeping (dispatch, claims, outcome batches, the API) use two cores
 * instead of taking turns on one event loop. On one thread, the bookkeeping of each attempt cost
 * about as much CPU as the purge request itself (docs/benchmarks.md, fan-out).
 *
 * One executor per process, shared by its workers, like the one HTTP client before it: per-node
 * concurrency holds for the process. It keeps no queue state. If the thread dies, every attempt
 * it held comes back as retryable and the next run starts a new thread.
 */
export interface ExecutorOptions {
  perNodeConcurrency: number;
  requestTimeoutMs: number;
  /** One attempt's time limit, all its requests and steps together. */
  attemptTimeoutMs: number;
}

/**
 * Main → thread: attempts as (key, node id, job index) triples, each node and job sent once;
 * or attempts (by key) not to start after all, their tasks canceled.
 */
export type ToExecutor = { t: 'run'; nodes: [number, EdgeNode, number][]; jobs: EdgeJob[]; attempts: number[] } | { t: 'abort' } | { t: 'drop'; keys: number[] };
/** Thread → main: outcomes as (key, kind, ms, error, description, verified by) runs; kind DROPPED_KIND for an attempt dropped unstarted. */
export type FromExecutor = { t: 'done'; out: (number | string)[] };

export type OnOutcome = (c: ClaimedAttempt, outcome: Outcome, ms: number) => void;

/** How a node group verifies its nodes' outcomes (its settings in the store; undefined: the default). */
export type VerifyOf = (group: string) => GroupVerify | undefined;

/** Outcome kinds by the index the thread sends (executor-thread.ts KIND). */
const KINDS = ['ok', 'retryable', 'permanent'] as const;
const DROPPED_KIND = 3;
/** The outcome of an attempt dropped before it started, its task canceled (compared by identity). */
export const DROPPED: Outcome = Object.freeze({ kind: 'permanent', error: CANCELED_ERROR, description: 'Internal Error' });

export class Executor {
  private thread: Thread | undefined;
  private readonly pending = new Map<number, { c: ClaimedAttempt; done: OnOutcome }>();
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: ExecutorOptions, private readonly logger: Logger, private readonly verifyOf: VerifyOf = () => undefined) {}

  /** Start the thread now (it takes a few ms to load), not on the first claim. */
  warm(): void {
    this.thread ??= this.spawn();
  }

  /**
   * Run these attempts; `done` is called once for each, on this thread, never before run()
   * returns. If run() throws, none of them will be reported.
   */
  run(attempts: ClaimedAttempt[], done: OnOutcome): void {
    const thread = (this.thread ??= this.spawn());
    const nodes = new Map<number, [number, EdgeNode, number]>();
    const jobOf = new Map<string, number>();
    const jobs: EdgeJob[] = [];
    const triples: number[] = [];
    const bad: [ClaimedAttempt, string][] = [];
    for (const c of attempts) {
      // The job is the same on every node of an item (in one phase): build it (and parse its path) once.
      const jobKey = c.phase ? `${c.itemId}/${c.phase}` : String(c.itemId);
      let j = jobOf.get(jobKey);
      if (j === undefined) {
        let job: EdgeJob;
        try {
          job = toJob(c);
        } catch (err) {
          bad.push([c, `bad job: ${(err as Error).message}`]);
          continue;
        }
        jobOf.set(jobKey, (j = jobs.length));
        jobs.push(job);
      }
      if (!nodes.has(c.nodeId)) {
        const { id, name, driver, address, options } = c.node;
        const verify = this.verifyOf(c.node.group);
        nodes.set(c.nodeId, [id, { id, name, driver, address, options, verify }, Number(options.concurrency ?? this.opts.perNodeConcurrency)]);
      }
      const key = ++this.seq;
      this.pending.set(key, { c, done });
      triples.push(key, c.nodeId, j);
    }
    if (triples.length > 0) {
      try {
        thread.postMessage({ t: 'run', nodes: [...nodes.values()], jobs, attempts: triples } satisfies ToExecutor);
      } catch (err) {
        // Not handed over: forget them, so no outcome is ever reported for them; the caller's
        // leases run out and the attempts are taken up again.
        for (let i = 0; i < triples.length; i += 3) this.pending.delete(triples[i]);
        throw err;
      }
    }
    // A job that cannot be built (a path or header the API would not have accepted) never will
    // be: failed for good at once, rather than retried until maxAttempts.
    for (const [c, error] of bad) queueMicrotask(() => done(c, { kind: 'permanent', error, description: 'Internal Error' }, 0));
  }

  /**
   * The tasks were canceled: attempts of theirs still waiting for a node's slot are not started
   * and come back as DROPPED; those already running finish (the store no longer counts them).
   */
  drop(taskIds: string[]): void {
    const tasks = new Set(taskIds);
    const keys: number[] = [];
    for (const [key, p] of this.pending) if (tasks.has(p.c.taskId)) keys.push(key);
    if (keys.length > 0) this.thread?.postMessage({ t: 'drop', keys } satisfies ToExecutor);
  }

  /** Cut short every request in flight (they come back as retryable); used when workers stop. */
  abort(): void {
    this.thread?.postMessage({ t: 'abort' } satisfies ToExecutor);
  }

  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    this.thread = undefined;
    this.pending.clear();
    await thread?.terminate();
  }

  private spawn(): Thread {
    const url = new URL(import.meta.url);
    const thread = url.pathname.endsWith('.ts')
      ? // Run from source (tests, benches under tsx): the thread registers tsx itself.
        new Thread(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./executor-thread.ts', url).href)}); })`,
          { eval: true, workerData: this.opts },
        )
      : new Thread(new URL('./executor-thread.js', url), { workerData: this.opts });
    // The process's own handles (server, timers) keep it alive, not this thread.
    thread.unref();
    thread.on('message', (m: FromExecutor) => this.receive(m));
    thread.on('error', (err) => this.lost(thread, err));
    thread.on('exit', (code) => this.lost(thread, new Error(`executor thread exited (${code})`)));
    return thread;
  }

  private receive(m: FromExecutor): void {
    const o = m.out;
    for (let i = 0; i < o.length; i += 6) {
      const p = this.pending.get(o[i] as number);
      if (!p) continue;
      this.pending.delete(o[i] as number);
      if (o[i + 1] === DROPPED_KIND) {
        p.done(p.c, DROPPED, 0);
        continue;
      }
      const kind = KINDS[o[i + 1] as number];
      const verifiedBy = (o[i + 5] as VerifiedBy | '') || undefined;
      const outcome: Outcome = kind === 'ok' ? { kind, verifiedBy } : kind === 'retryable' ? { kind, error: o[i + 3] as string, verifiedBy }
        : { kind, error: o[i + 3] as string, description: o[i + 4] as Extract<Outcome, { kind: 'permanent' }>['description'], verifiedBy };
      p.done(p.c, outcome, o[i + 2] as number);
    }
  }

  /** The thread is gone: what it held is retried (the purges are idempotent). */
  private lost(thread: Thread, err: Error): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    if (this.closed) return;
    this.logger.error({ err, attempts: this.pending.size }, 'executor thread failed; its attempts will be retried');
    const lost = [...this.pending.values()];
    this.pending.clear();
    for (const p of lost) p.done(p.c, { kind: 'retryable', error: `executor thread failed: ${err.message}` }, 0);
  }
}

function toJob(c: ClaimedAttempt): EdgeJob {
  // A cache tag is no URL: the node is told the item's domain and the tag.
  const target = c.objectType === 'cachetag' ? { host: c.domain, scheme: 'http' as const, path: c.objectPath } : toEdgeTarget(c.objectPath);
  // Purge-then-warm: the purge phase is the item's own refresh; the preload phase warms the
  // path as given (for IgnoreParams, with its query string), like a PushObjectCache of it.
  const preload = c.objectType === 'preload' || c.phase === 'preload';
  return {
    kind: preload ? 'preload' : 'refresh',
    objectType: c.phase === 'preload' ? 'preload' : c.objectType,
    force: c.force,
    objectPath: c.objectPath,
    host: target.host,
    scheme: target.scheme,
    path: target.path,
    headers: c.withHeader ? parseWithHeader(c.withHeader) : {},
    origin: c.origin,
    // VerifyUrl samples, on the task's domain: verify.ts probes those in this item's scope.
    samples: c.verifyUrls.map((url) => toEdgeTarget(url).path),
  };
}
