import type { Logger } from 'pino';
import type { AttemptResult, ClaimedAttempt } from '../store/port.js';

/**
 * Every failed node attempt, logged with its task, item, node and reason: `warn` when it will be
 * retried, `error` when it is final. A dead node fails every attempt sent to it for the same
 * reason, so repeats of one cause (same node, level and reason) within `windowMs` are folded:
 * the first is logged in full, the rest counted and summed up in one line when the window ends.
 */
export class FailureLog {
  private readonly folded = new Map<string, { count: number; first: number; last: Record<string, unknown>; level: 'warn' | 'error' }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly logger: Logger, private readonly windowMs = 60_000, private readonly now: () => number = Date.now) {}

  note(c: ClaimedAttempt, result: AttemptResult): void {
    if (result.state === 'applied') return;
    const level = result.state === 'retry' ? 'warn' : 'error';
    const reason = result.error;
    const fields = {
      task: c.taskId, item: c.objectPath, node: c.node.name, driver: c.node.driver, attempt: c.attempts + 1, reason,
      ...(c.phase ? { phase: c.phase } : {}),
      ...(result.state === 'retry' ? { retryInMs: Math.max(0, result.nextRunAt - this.now()) } : { description: result.description }),
    };
    const key = `${c.node.name}\u0000${level}\u0000${reason}`;
    const seen = this.folded.get(key);
    if (seen) {
      seen.count++;
      seen.last = fields;
      return;
    }
    this.folded.set(key, { count: 0, first: this.now(), last: fields, level });
    this.logger[level](fields, level === 'warn' ? 'node attempt failed; will retry' : 'node attempt failed for good');
    this.timer ??= setInterval(() => this.flush(false), Math.max(10, this.windowMs / 4)).unref();
  }

  /** Sum up the causes whose window has ended (all of them with `all`), and forget them. */
  flush(all = true): void {
    const now = this.now();
    for (const [key, f] of this.folded) {
      if (!all && now - f.first < this.windowMs) continue;
      this.folded.delete(key);
      if (f.count > 0) {
        this.logger[f.level]({ ...f.last, repeats: f.count, windowMs: now - f.first }, `node attempt failed ${f.count} more times for the same reason (folded; the last shown)`);
      }
    }
    if (this.folded.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
