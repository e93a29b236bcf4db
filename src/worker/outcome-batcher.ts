import type { Logger } from 'pino';
import type { AttemptResult } from '../domain/records.js';
import type { AttemptQueue } from '../store/port.js';
import { systemClock, type Clock } from './clock.js';
import { emitProgress } from './progress-events.js';

/*
 * How outcomes are gathered into batches, by the executor thread where they happen
 * (executor-thread.ts): each batch is one message to the worker and one transaction here. Each
 * commit writes every page it touched to the WAL, ~2 syscalls a page: ~0.25 ms a commit, so
 * outcomes travel in tens, not ones.
 */
/** How long an outcome waits for company while many attempts are still running. */
export const GATHER_MS = 10;
/**
 * Outcomes waiting at which they go without waiting longer: one commit per 64 costs little more
 * than per 300, and a task's last outcomes never queue behind a big batch.
 */
export const FLUSH_AT = 64;
/** Attempts left at or below which outcomes go at once: the tail of a task is never held back. */
export const TAIL = 16;

/** The outcomes of one worker's attempts, recorded as they arrive: one transaction per batch the executor sends. */
export class OutcomeBatcher {
  private results: AttemptResult[] = [];
  /** Outcomes waiting that, once recorded, make another attempt due (a purge before its preload). */
  private continuing = 0;

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
