import type { Logger } from 'pino';
import type { GroupVerify, NodeGroup, Store } from '../store/port.js';

/**
 * The node groups' settings as this process's executor reads them: loaded before the workers
 * start and again every `refreshMs`, so `refreshd group set` (another process, same store) is
 * in force within a second without a query per claimed attempt.
 */
export class GroupSettings {
  private byName = new Map<string, NodeGroup>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: Pick<Store, 'fleet'>, private readonly logger: Logger, private readonly refreshMs = 1_000) {}

  async start(): Promise<void> {
    await this.load();
    this.timer = setInterval(() => void this.load(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  readonly verifyOf = (group: string): GroupVerify | undefined => this.byName.get(group)?.verify;

  private async load(): Promise<void> {
    try {
      this.byName = new Map((await this.store.fleet.listNodeGroups()).map((g) => [g.name, g]));
    } catch (err) {
      // Keep the last settings: a store that cannot be read now fails the claims too, and they retry.
      this.logger.error({ err }, 'could not read node group settings');
    }
  }
}
