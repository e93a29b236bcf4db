import type { Outcome } from '../edges/driver.js';
import { systemClock, type Clock } from './clock.js';
import type { FromExecutor } from './executor.js';
import { FLUSH_AT, GATHER_MS, TAIL } from './outcome-batcher.js';

// As executor.ts reads them (KINDS, DROPPED_KIND); only types are imported from there, so the thread loads no more than it runs.
const KIND = { ok: 0, retryable: 1, permanent: 2, dropped: 3 } as const;
/** Fields per outcome in a report: key, kind, ms, error, description, verified by. */
export const FIELDS = 6;

/**
 * The executor thread's outcomes on their way to the worker, gathered where they happen: every
 * message costs both threads a wake-up and a turn of their event loops, and the worker records
 * each message in one transaction (outcome-batcher.ts). A batch goes at the end of the turn in
 * which FLUSH_AT outcomes are waiting, or GATHER_MS after its first outcome; and at the end of
 * every turn while at most TAIL attempts are left, so that a task's last outcomes, on the path
 * to its Complete, never wait. (A batch used to go 1 ms after its first outcome: 15–18 messages,
 * and as many wake-ups of the main thread, for 300 purges on 3 Varnish; now 5–7.)
 */
export class OutcomeReports {
  private out: FromExecutor['out'] = [];
  private timer: unknown;
  private soon = false;

  constructor(
    private readonly post: (out: FromExecutor['out']) => void,
    private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'> = systemClock,
    /** Runs `fn` once this turn's I/O callbacks are done (setImmediate). */
    private readonly endOfTurn: (fn: () => void) => void = setImmediate,
  ) {}

  /** An attempt's outcome; `left`: attempts the thread still holds, running or waiting, after it. */
  add(key: number, o: Outcome, ms: number, left: number): void {
    this.out.push(key, KIND[o.kind], ms, o.kind === 'ok' ? '' : o.error, o.kind === 'permanent' ? o.description : '', o.verifiedBy ?? '');
    if (left > TAIL && this.out.length < FLUSH_AT * FIELDS) this.timer ??= this.clock.setTimeout(this.send, GATHER_MS);
    else if (!this.soon) {
      this.soon = true;
      this.endOfTurn(this.send);
    }
  }

  /** Attempts taken out unstarted (their task canceled): reported now, with what is waiting. */
  dropped(keys: number[]): void {
    if (keys.length === 0) return;
    for (const key of keys) this.out.push(key, KIND.dropped, 0, '', '', '');
    this.send();
  }

  private readonly send = (): void => {
    this.soon = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    this.post(out);
  };
}
