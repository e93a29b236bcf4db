import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { EngineConfig } from '../config/config.js';
import { seriesOfNode } from '../observability/metrics.js';
import type { ClaimedAttempt } from '../domain/records.js';
import type { Store } from '../store/port.js';
import { systemClock, type Clock } from './clock.js';
import { DROPPED, type OnOutcome } from './executor.js';
import type { HandOff } from './hand-off.js';
import { LeaseKeeper } from './lease-keeper.js';
import { OutcomeBatcher } from './outcome-batcher.js';
import { onCanceled } from './progress-events.js';
import { decide } from './retry-policy.js';
import { FailureLog } from './failure-log.js';

/**
 * Items turned into per-node attempts per round. Dispatch runs on the event loop that feeds the
 * executor: 100 items on 200 nodes is 20,000 rows, ~12 ms (500 items blocked it ~60 ms).
 */
const DISPATCH_BATCH = 100;
/**
 * An idle worker dispatches this many first, so the executor starts on a big task while the
 * rest is dispatched and claimed, instead of after the whole first batch.
 */
const FIRST_BATCH = 16;

/**
 * One worker: dispatch new items into per-node attempts, lease due attempts, hand them to the
 * executor (which runs them on the nodes with per-node concurrency limits), and record outcomes
 * in small batches. All queue state lives in the store, so a killed worker loses nothing: its
 * leases expire and any worker takes the attempts up again.
 */
export class Worker {
  /**
   * Names this worker in its lease tokens (lease-token.ts), which every leased attempt row
   * stores: kept short, and tied to the host and pid by the log line at start.
   */
  readonly owner = `w${process.pid.toString(36)}.${randomBytes(3).toString('base64url')}`;
  private running = false;
  private inFlight = 0;
  private wake: (() => void) | undefined;
  private lookForWork = true;
  private poked = false;
  /** When due attempts were last claimed (see run). */
  private lastClaim = 0;
  /** Recorded purges made their preloads due (purge-then-warm): claim them in this round. */
  private claimNow = false;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly leases: LeaseKeeper;
  private readonly outcomes: OutcomeBatcher;
  /** A busy worker claims again once this much room is free, not after every completion. */
  private readonly claimChunk: number;
  /** Failed attempts, logged with their task, item, node and reason (repeats folded). */
  private readonly failures: FailureLog;

  /**
   * `handOff`: the submits of this process, which lease new items to this worker and wake it
   * (worker/hand-off.ts). Work committed by other processes wakes it through the store's
   * listenForWork where the store has one (PostgreSQL), else the poll timer finds it.
   */
  constructor(
    private readonly store: Pick<Store, 'queue' | 'capabilities'>,
    private readonly executor: AttemptRunner,
    private readonly cfg: EngineConfig,
    private readonly logger: Logger,
    private readonly handOff?: HandOff,
    private readonly clock: Clock = systemClock,
  ) {
    this.leases = new LeaseKeeper(store.queue, cfg.leaseMs, () => this.more(), logger, clock);
    this.outcomes = new OutcomeBatcher(store.queue, logger, clock);
    // An eighth: small enough that the executor's per-node queues do not run dry while the room
    // fills (200 nodes × 8 slots kept busy out of 2,048 in flight), large enough to batch claims.
    this.claimChunk = Math.max(1, Math.floor(cfg.maxInFlight / 8));
    this.failures = new FailureLog(logger);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.logger.debug({ owner: this.owner, host: hostname(), pid: process.pid }, 'worker started');
    const unsubscribe = this.store.capabilities.listenForWork?.(() => this.more());
    // Canceled tasks (here or, through the store, in another process): drop what has not started.
    const drop = (taskIds: string[]) => this.executor.drop(taskIds);
    const offCanceled = [onCanceled(drop), this.store.capabilities.listenForCancel?.(drop)];
    // New items that fit come already leased to this worker from the submit itself.
    const detach = this.handOff?.attach({
      owner: this.owner,
      leaseMs: this.cfg.leaseMs,
      room: () => (this.running ? this.cfg.maxInFlight - this.inFlight : 0),
      take: (claimed) => this.launch(claimed),
      wake: () => this.more(),
    });
    this.unsubscribe = () => {
      unsubscribe?.();
      detach?.();
      for (const off of offCanceled) off?.();
    };
    this.leases.start();
    this.loop = this.run();
  }

  /** Stop claiming, let attempts in flight finish (up to `graceMs`), record what finished. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.leases.stop();
    this.signal();
    await this.drained(graceMs);
    if (this.inFlight > 0) {
      // Cut the rest short: they come back as retryable, and recording them frees their leases
      // now instead of when the leases run out.
      this.executor.abort();
      await this.drained(2_000);
    }
    await this.loop;
    await this.outcomes.flush();
    this.failures.flush();
  }

  private async drained(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
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

  /** Room to claim: anything when idle, else a chunk (a claim is a transaction of its own). */
  private room(): number {
    const free = this.cfg.maxInFlight - this.inFlight;
    return this.inFlight === 0 || free >= this.claimChunk ? free : 0;
  }

  /**
   * Each round: record finished outcomes; then, only when work may be waiting and there is
   * room, dispatch and claim. Completions alone never trigger a claim, so a worker holding
   * thousands of leased attempts does not re-query the queue for every one that finishes.
   */
  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (await this.outcomes.flush()) {
          this.claimNow = true;
          this.lookForWork = true;
        }
        // Due retries are looked for at least every poll period even while completions keep
        // waking the loop before its poll timer fires (new items that the submits hand over
        // directly wake nobody).
        if (this.claimDue()) this.lookForWork = true;
        const free = this.room();
        if (this.lookForWork && free > 0) {
          this.lookForWork = false;
          const batch = this.inFlight === 0 ? FIRST_BATCH : DISPATCH_BATCH;
          // New items' attempts come back leased to us, without a claim of their own. Due
          // attempts nobody holds (retries, attempts that did not fit, a dead worker's) are
          // claimed once the new items are drained, and at least every poll period under a
          // steady stream of submits, so they never starve.
          const fresh = await this.store.queue.dispatchAndClaim(this.owner, this.clock.now(), this.cfg.leaseMs, batch, free);
          this.launch(fresh.claimed);
          // Room now, not before the dispatch: a submit may have handed this worker attempts meanwhile.
          const left = Math.max(0, this.cfg.maxInFlight - this.inFlight);
          const drained = fresh.dispatched < batch;
          let claimed: ClaimedAttempt[] = [];
          if (left > 0 && (drained || this.claimDue() || this.claimNow)) {
            this.claimNow = false;
            this.lastClaim = this.clock.now();
            claimed = await this.store.queue.claimAttempts(this.owner, this.lastClaim, this.cfg.leaseMs, left);
            this.launch(claimed);
          }
          // More new items, or a full claim: more is likely waiting.
          if (!drained || (left > 0 && claimed.length === left)) this.lookForWork = true;
        }
        if (this.outcomes.size === 0 && !(this.lookForWork && this.room() > 0)) {
          await this.idle(this.cfg.pollMs);
        }
      } catch (err) {
        this.logger.error({ err }, 'worker loop failed; retrying');
        await this.idle(this.cfg.pollMs);
      }
    }
  }

  /** A poll period has passed since due attempts were last claimed. */
  private claimDue(): boolean {
    return this.clock.now() - this.lastClaim >= this.cfg.pollMs;
  }

  /** Sleep until signalled (a completion, a submit) or until the poll tick, which looks for due retries. */
  private idle(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms > 0 ? this.clock.setTimeout(() => this.more(), ms) : undefined;
      this.wake = () => {
        if (timer) this.clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  private launch(claimed: ClaimedAttempt[]): void {
    if (claimed.length === 0) return;
    // First, so that attempts it could not take are neither counted nor kept alive by the
    // heartbeat: their leases run out and any worker takes them (outcomes never come back
    // synchronously from run()).
    this.executor.run(claimed, this.done);
    this.inFlight += claimed.length;
    this.leases.hold(claimed);
  }

  private readonly done: OnOutcome = (c, outcome, ms) => {
    if (outcome === DROPPED) {
      // Canceled before it ran: the store has closed the attempt already, so there is nothing to
      // record, measure or log; only its room and its lease come back.
      this.inFlight--;
      this.leases.release(c.lease);
      this.poke();
      return;
    }
    const series = seriesOfNode(c.node.name, c.node.driver);
    series.duration.observe(ms / 1000);
    series.outcomes[outcome.kind].inc();
    const result = decide(c, outcome, { maxAttempts: this.cfg.maxAttempts, baseMs: this.cfg.retryBaseMs }, this.clock.now());
    this.failures.note(c, result);
    // A purge confirmed on a node makes its preload due at once (purge-then-warm).
    this.outcomes.add(result, c.phase === 'purge' && result.state === 'applied');
    this.inFlight--;
    this.leases.release(c.lease);
    this.poke();
  };

  /**
   * Outcomes arrive as one message per batch from the executor, which gathers them
   * (executor-thread.ts); wake the loop once after all of this turn's messages (setImmediate
   * runs after the poll phase that delivered them), so they are recorded in one transaction,
   * not one each.
   */
  private poke(): void {
    if (this.poked) return;
    this.poked = true;
    setImmediate(() => {
      this.poked = false;
      this.signal();
    });
  }
}

/** What runs claimed attempts on the nodes (worker/executor.ts). */
export interface AttemptRunner {
  /** `done` is called once per attempt, never before run() returns; if run() throws, for none of them. */
  run(attempts: ClaimedAttempt[], done: OnOutcome): void;
  /** Cut short what is running (it comes back as retryable). */
  abort(): void;
  /** Attempts of these tasks not started yet are not started: each comes back as DROPPED. */
  drop(taskIds: string[]): void;
}
