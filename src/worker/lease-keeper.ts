import type { Logger } from 'pino';
import type { ClaimedAttempt } from '../domain/records.js';
import type { AttemptQueue } from '../store/port.js';
import { systemClock, type Clock } from './clock.js';

/**
 * The lease heartbeat and reaper of one worker. Leases are short and renewed every third of a
 * lease while their attempts run, so a killed worker's attempts are free again within one lease
 * period however long a node's queue is; each beat also frees any worker's leases that ran out
 * (a dead worker's), and says so, so that they run again.
 */
export class LeaseKeeper {
  /** Lease token → attempts still running under it (one token per claim). */
  private readonly held = new Map<string, number>();
  private timer: unknown;

  constructor(
    private readonly queue: Pick<AttemptQueue, 'renewLeases' | 'reapLeases'>,
    private readonly leaseMs: number,
    /** Leases were reaped: work is waiting. */
    private readonly onFreed: () => void,
    private readonly logger: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  start(): void {
    this.timer ??= this.clock.setInterval(() => void this.beat(), Math.max(50, Math.floor(this.leaseMs / 3)));
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Attempts now running under their leases. */
  hold(claimed: ClaimedAttempt[]): void {
    for (const c of claimed) this.held.set(c.lease, (this.held.get(c.lease) ?? 0) + 1);
  }

  /** One attempt under `lease` has finished. */
  release(lease: string): void {
    const left = (this.held.get(lease) ?? 1) - 1;
    if (left > 0) this.held.set(lease, left);
    else this.held.delete(lease);
  }

  /** Lease tokens with attempts still running. */
  tokens(): string[] {
    return [...this.held.keys()];
  }

  /** Renew what this worker holds, then reap what ran out. */
  async beat(): Promise<void> {
    try {
      await this.queue.renewLeases(this.tokens(), this.clock.now() + this.leaseMs);
      if ((await this.queue.reapLeases(this.clock.now())) > 0) this.onFreed();
    } catch (err) {
      this.logger.error({ err }, 'could not renew leases');
    }
  }
}
