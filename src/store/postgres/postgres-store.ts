import { randomUUID } from 'node:crypto';
import type { Store, StoreCapabilities } from '../port.js';
import { PgAudit } from './audit.js';
import { PgDomains } from './domains.js';
import { PgFleet } from './fleet.js';
import { PgGuards } from './guards.js';
import { PgIdentity } from './identity.js';
import { migrate } from './migrate.js';
import { PgOps } from './ops.js';
import { PgOutbox } from './outbox.js';
import { DayPartitions } from './partitions.js';
import { PgQueue } from './queue.js';
import { connect, type Sql } from './rows.js';
import { CANCEL_CHANNEL } from './cancel.js';
import { PgTasks, WORK_CHANNEL } from './tasks.js';

/**
 * The store on PostgreSQL: many API and worker processes, on many hosts, share one database.
 * What SQLite keeps in process memory (signature nonces, rate windows, "work is ready" wake-ups)
 * lives in the database here — nonce and rate-window tables, LISTEN/NOTIFY — and every limit is
 * checked under a row or advisory lock, so it holds across processes, not just within one. This
 * class only connects, migrates and composes the roles; each role lives in its own file.
 */
export class PostgresStore implements Store {
  readonly capabilities: StoreCapabilities;
  readonly identity: PgIdentity;
  readonly domains: PgDomains;
  readonly fleet: PgFleet;
  readonly tasks: PgTasks;
  readonly queue: PgQueue;
  readonly outbox: PgOutbox;
  readonly audit: PgAudit;
  readonly guards: PgGuards;
  readonly ops: PgOps;
  /** Names this instance in NOTIFY payloads, so its own submits (handed over in process) do not wake it twice. */
  private readonly instance = randomUUID();
  private readonly partitions = new DayPartitions();
  private readonly workListeners = new Set<() => void>();
  private readonly cancelListeners = new Set<(taskIds: string[]) => void>();
  private unlisten: (() => Promise<void>) | undefined;

  private constructor(private readonly sql: Sql) {
    this.identity = new PgIdentity(sql);
    this.domains = new PgDomains(sql);
    this.fleet = new PgFleet(sql);
    this.queue = new PgQueue(sql);
    this.tasks = new PgTasks(sql, this.partitions, this.instance, this.queue);
    this.outbox = new PgOutbox(sql);
    this.audit = new PgAudit(sql);
    this.guards = new PgGuards(sql);
    this.ops = new PgOps(sql, this.partitions, { audit: this.audit, outbox: this.outbox });
    this.capabilities = {
      listenForWork: (listener) => {
        this.workListeners.add(listener);
        return () => this.workListeners.delete(listener);
      },
      listenForCancel: (listener) => {
        this.cancelListeners.add(listener);
        return () => this.cancelListeners.delete(listener);
      },
    };
  }

  /** Connect, migrate (safe when several processes start at once), and listen for new work. */
  static async open(url: string, options: { max?: number } = {}): Promise<PostgresStore> {
    const sql = connect(url, options);
    try {
      await migrate(sql);
      const store = new PostgresStore(sql);
      await store.partitions.prepare(sql, Date.now());
      const listening = await sql.listen(WORK_CHANNEL, (payload) => store.heard(payload));
      const canceling = await sql.listen(CANCEL_CHANNEL, (payload) => store.heardCancel(payload));
      store.unlisten = async () => {
        await listening.unlisten();
        await canceling.unlisten();
      };
      return store;
    } catch (err) {
      await sql.end({ timeout: 5 });
      throw err;
    }
  }

  async close(): Promise<void> {
    this.workListeners.clear();
    this.cancelListeners.clear();
    await this.unlisten?.().catch(() => {});
    await this.sql.end({ timeout: 5 });
  }

  /** For tests and tools: the connection pool. */
  get raw(): Sql {
    return this.sql;
  }

  /**
   * A NOTIFY from a submit's commit (postgres.js re-listens after a reconnect). Runs on the
   * LISTEN connection's data handler: a throwing listener must not break it.
   */
  private heard(from: string): void {
    if (from === this.instance) return;
    for (const listener of this.workListeners) call(() => listener());
  }

  /** A NOTIFY from a finished cancel: the task ids, comma-joined (this process's own workers heard it in process, too; dropping twice is harmless). */
  private heardCancel(payload: string): void {
    const taskIds = payload.split(',').filter((id) => id !== '');
    for (const listener of this.cancelListeners) call(() => listener(taskIds));
  }
}

/** Run a listener on the LISTEN connection's data handler without letting it throw there. */
function call(listener: () => void): void {
  try {
    listener();
  } catch (err) {
    queueMicrotask(() => { throw err; });
  }
}
