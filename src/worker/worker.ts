import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { EngineConfig } from '../config/config.js';
import { toEdgeTarget, type EdgeDriver, type EdgeJob, type Outcome } from '../edges/driver.js';
import { nodeDuration, nodeOperations } from '../observability/metrics.js';
import type { AttemptResult, ClaimedAttempt, TaskStore } from '../store/port.js';
import { NodeSlots } from './node-slots.js';
import { emitProgress } from './progress-events.js';
import { decide } from './retry-policy.js';

/** How long a worker waits, once outcomes are ready, for more to batch into one write. */
const FLUSH_GATHER_MS = 2;
/** Items turned into per-node attempts per round. */
const DISPATCH_BATCH = 500;

/**
 * One worker: dispatch new items into per-node attempts, lease due attempts, run them through
 * the drivers with per-node concurrency limits, and record outcomes in small batches. All queue
 * state lives in the store, so a killed worker loses nothing: its leases expire and any worker
 * takes the attempts up again.
 */
export class Worker {
  readonly owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private running = false;
  private inFlight = 0;
  private results: AttemptResult[] = [];
  private wake: (() => void) | undefined;
  private lookForWork = true;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly slots = new NodeSlots();
  /** Lease token → attempts still running under it, for the heartbeat. */
  private readonly leases = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly store: TaskStore,
    private readonly drivers: Record<string, EdgeDriver>,
    private readonly cfg: EngineConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    // Every request in flight listens on this one signal (to stop with the worker).
    setMaxListeners(0, this.abort.signal);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.store.onWork(() => this.more());
    // Leases are short and renewed while attempts run, so a killed worker's attempts are free
    // again within one lease period, however long a node's queue is.
    this.heartbeat = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.cfg.leaseMs / 3)));
    this.heartbeat.unref();
    this.loop = this.run();
  }

  /** Stop claiming, let attempts in flight finish (up to `graceMs`), record what finished. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    clearInterval(this.heartbeat);
    this.signal();
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.abort.abort(new Error('worker stopping'));
    await this.loop;
    await this.flush();
  }

  /** New work may be waiting (a submit, a poll tick, freed leases): look for it next round. */
  private more(): void {
    this.lookForWork = true;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * Each round: record finished outcomes; then, only when work may be waiting, dispatch and
   * claim. Completions alone never trigger a claim, so a worker holding thousands of leased
   * attempts does not re-query the queue for every one that finishes.
   */
  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.flush();
        if (this.lookForWork) {
          this.lookForWork = false;
          const dispatched = await this.store.dispatchPending(this.now(), DISPATCH_BATCH);
          const free = this.cfg.maxInFlight - this.inFlight;
          const claimed = free > 0 ? await this.store.claimAttempts(this.owner, this.now(), this.cfg.leaseMs, free) : [];
          for (const c of claimed) this.launch(c);
          // A full batch (or no room to claim) means more is likely waiting.
          if (dispatched === DISPATCH_BATCH || free === 0 || (claimed.length === free && free > 0) || dispatched > 0) this.lookForWork = true;
        }
        if (this.results.length === 0 && !(this.lookForWork && this.inFlight < this.cfg.maxInFlight)) {
          await this.idle(this.cfg.pollMs);
        }
        // Completions arrive one by one; gather those of the next moment into one transaction.
        if (this.inFlight > 0 && this.results.length > 0) await new Promise((r) => setTimeout(r, FLUSH_GATHER_MS));
      } catch (err) {
        this.logger.error({ err }, 'worker loop failed; retrying');
        await this.idle(this.cfg.pollMs);
      }
    }
  }

  /** Sleep until signalled (a completion, a submit) or until the poll tick, which looks for due retries. */
  private idle(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms > 0 ? setTimeout(() => this.more(), ms) : undefined;
      this.wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
    });
  }

  private launch(c: ClaimedAttempt): void {
    this.inFlight++;
    this.leases.set(c.lease, (this.leases.get(c.lease) ?? 0) + 1);
    void this.execute(c)
      .then((outcome) => this.results.push(decide(c, outcome, { maxAttempts: this.cfg.maxAttempts, baseMs: this.cfg.retryBaseMs }, this.now())))
      .finally(() => {
        this.inFlight--;
        const left = (this.leases.get(c.lease) ?? 1) - 1;
        if (left > 0) this.leases.set(c.lease, left);
        else this.leases.delete(c.lease);
        this.signal();
      });
  }

  private async renew(): Promise<void> {
    try {
      await this.store.renewLeases([...this.leases.keys()], this.now() + this.cfg.leaseMs);
      // Any worker frees leases that ran out (a dead worker's), so its attempts run again.
      if ((await this.store.reapLeases(this.now())) > 0) this.more();
    } catch (err) {
      this.logger.error({ err }, 'could not renew leases');
    }
  }

  private async execute(c: ClaimedAttempt): Promise<Outcome> {
    const driver = this.drivers[c.node.driver];
    if (!driver) return { kind: 'permanent', error: `no driver named ${c.node.driver}`, description: 'Internal Error' };
    const limit = Number(c.node.options.concurrency ?? this.cfg.perNodeConcurrency);
    await this.slots.acquire(c.nodeId, limit);
    try {
      const target = toEdgeTarget(c.objectPath);
      const job: EdgeJob = {
        kind: c.objectType === 'preload' ? 'preload' : 'refresh',
        objectType: c.objectType,
        force: c.force,
        objectPath: c.objectPath,
        host: target.host,
        scheme: target.scheme,
        path: target.path,
        headers: c.withHeader ? (JSON.parse(c.withHeader) as Record<string, string[]>) : {},
        origin: c.origin,
      };
      // Drivers bound each request by engine.requestTimeoutMs through the HTTP client's own
      // timeouts; the signal only stops them when the worker stops.
      const started = performance.now();
      const outcome = await driver.execute(c.node, job, this.abort.signal);
      nodeDuration.observe({ node: c.node.name, driver: c.node.driver }, (performance.now() - started) / 1000);
      nodeOperations.inc({ node: c.node.name, driver: c.node.driver, outcome: outcome.kind });
      return outcome;
    } catch (err) {
      return { kind: 'retryable', error: `driver ${c.node.driver} threw: ${(err as Error).message ?? String(err)}` };
    } finally {
      this.slots.release(c.nodeId);
    }
  }

  private async flush(): Promise<void> {
    if (this.results.length === 0) return;
    const batch = this.results;
    this.results = [];
    try {
      await this.store.recordOutcomes(this.now(), batch);
      emitProgress();
    } catch (err) {
      // Not recorded: the leases run out and the attempts are taken up again; purges are idempotent.
      this.logger.error({ err, count: batch.length }, 'could not record outcomes');
    }
  }
}
