import type { Logger } from 'pino';
import type { AttemptResult } from '../domain/records.js';
import type { AttemptQueue } from '../store/port.js';
import { systemClock, type Clock } from './clock.js';
import { emitProgress } from './progress-events.js';

/**
 * How long a worker waits, once outcomes are ready, for more to batch into one write. Each
 * commit writes every page it touched to the WAL, ~2 syscalls a page: ~0.25 ms a commit here,
 * so outcomes travel in tens, not ones. The wait ends early when little is left in flight (the
 * last outcomes of a task are never held back) or when there is room to claim waiting work.
 */
export const GATHER_MS = 10;
/**
 * Outcomes waiting at which they are recorded without waiting longer: one commit per 64 costs
 * little more than per 300, and a task's last outcomes never queue behind a big batch.
 */
export const FLUSH_AT = 64;
/** Attempts in flight at or below which outcomes are recorded without waiting. */
export const TAIL = 16;

/** The outcomes of one worker's attempts, recorded in small batches (one transaction each). */
export class OutcomeBatcher {
  private results: AttemptResult[] = [];
  /** Outcomes waiting that, once recorded, make another attempt due (a purge before its preload). */
  private continuing = 0;
  private cutGather: (() => void) | undefined;

  constructor(
    private readonly queue: Pick<AttemptQueue, 'recordOutcomes'>,
    private readonly logger: Logger,
    private readonly clock: Clock = systemClock,
    /** Told after each recorded batch (WaitForTasks and the notifier listen). */
    private readonly recorded: () => void = emitProgress,
  ) {}

  get size(): number {
    return this.results.length;
  }

  /** `continues`: once recorded, this outcome makes the attempt's next phase due (purge-then-warm). */
  add(result: AttemptResult, continues = false): void {
    this.results.push(result);
    if (continues) this.continuing++;
  }

  /** Worth waiting for company: many attempts still running, and something to record. */
  worthGathering(inFlight: number): boolean {
    return inFlight > TAIL && this.results.length > 0;
  }

  /** Wait up to GATHER_MS for more outcomes, or less: `cut()` ends it. */
  gather(ms = GATHER_MS): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.cut(), ms);
      this.cutGather = () => {
        this.cutGather = undefined;
        this.clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * After a turn of outcomes arrived: end the wait now if a task's last outcomes are among them
   * (little in flight), if a batch is full, or if the worker has room for waiting work.
   */
  arrived(inFlight: number, wantsWork: boolean): void {
    if (inFlight <= TAIL || this.results.length >= FLUSH_AT || wantsWork) this.cut();
  }

  cut(): void {
    this.cutGather?.();
  }

  /**
   * Record what is waiting; true when the batch made next phases due (the worker claims them
   * now). On failure the leases run out and the attempts run again (purges are idempotent).
   */
  async flush(): Promise<boolean> {
    if (this.results.length === 0) return false;
    const batch = this.results;
    const continuing = this.continuing;
    this.results = [];
    this.continuing = 0;
    try {
      await this.queue.recordOutcomes(this.clock.now(), batch);
      this.recorded();
      return continuing > 0;
    } catch (err) {
      this.logger.error({ err, count: batch.length }, 'could not record outcomes');
      return false;
    }
  }
}
