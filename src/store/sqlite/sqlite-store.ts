import Database from 'better-sqlite3';
import type {
  AttemptQueue, AuditStore, DomainStore, FleetStore, Guards, IdentityStore, Outbox, Store, StoreCapabilities, StoreOps, TaskStore,
} from '../port.js';
import { SqliteAudit } from './audit.js';
import { busyAware } from './busy.js';
import { SqliteDomains } from './domains.js';
import { SqliteFleet } from './fleet.js';
import { SqliteGuards } from './guards.js';
import { SqliteIdentity } from './identity.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteOps } from './ops.js';
import { SqliteOutbox } from './outbox.js';
import { SqliteProgress } from './progress.js';
import { SqliteQueue } from './queue.js';
import { SqliteTasks } from './tasks.js';
import { Checkpointer } from './checkpointer.js';
import { WalSync } from './wal-sync.js';

/**
 * Embedded store on one SQLite file (WAL). better-sqlite3 is synchronous; every call is short,
 * so the event loop is blocked for microseconds, not milliseconds. One process writes: the API
 * server; admin commands share the file through SQLite's own locking. This class only opens
 * the connections and composes the roles; each role lives in its own file.
 */
export class SqliteStore implements Store {
  /** One process serves the API and its worker hears its submits through the hand-off: nothing to listen for. */
  readonly capabilities: StoreCapabilities = {};
  readonly identity: IdentityStore;
  readonly domains: DomainStore;
  readonly fleet: FleetStore;
  readonly tasks: TaskStore;
  readonly queue: AttemptQueue;
  readonly outbox: Outbox;
  readonly audit: AuditStore;
  readonly guards: Guards;
  readonly ops: StoreOps;
  /** For tests and the benchmark loaders: the API connection. */
  readonly raw: Database.Database;
  /** The engine's own connection (queue, fleet, outbox), see the constructor. */
  private readonly workDb: Database.Database;
  private readonly walSync: WalSync | undefined;
  /** WAL checkpoints in a thread of their own (checkpointer.ts); none without WAL. */
  readonly checkpointer: Checkpointer | undefined;
  private readonly sqliteGuards: SqliteGuards;

  constructor(file: string) {
    const db = (this.raw = new Database(file));
    const wal = db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // FULL: what the API writes is on disk before it answers, so it survives power loss, not
    // just a crash. Submits, the one frequent write, get the same promise through a group
    // commit off the event loop instead (tasks.ts submit, wal-sync.ts).
    db.pragma('synchronous = FULL');
    this.walSync = wal ? new WalSync(`${file}-wal`) : undefined;
    this.checkpointer = wal ? new Checkpointer(file) : undefined;
    if (wal) db.pragma('wal_autocheckpoint = 0');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -65536');
    db.pragma('foreign_keys = ON');
    migrate(db);
    // The engine writes through a second connection at synchronous=NORMAL: a lost outcome only
    // means a purge runs again after a crash (purges are idempotent), and per-outcome fsyncs
    // would cap the fan-out rate. WAL keeps it crash-safe; the next submit's flush (or FULL commit)
    // syncs it. The two connections never nest transactions (better-sqlite3 runs each to completion).
    const workDb = (this.workDb = new Database(file));
    workDb.pragma('synchronous = NORMAL');
    if (wal) workDb.pragma('wal_autocheckpoint = 0');
    workDb.pragma('busy_timeout = 5000');
    workDb.pragma('cache_size = -65536');
    // Progress is written by the queue and the fleet on the engine's connection (progress.ts).
    const progress = new SqliteProgress(workDb);
    const queue = new SqliteQueue(workDb, progress);
    const audit = new SqliteAudit(db, workDb);
    const outbox = new SqliteOutbox(db, workDb);
    const guards = (this.sqliteGuards = new SqliteGuards(file));
    this.identity = busyAware(new SqliteIdentity(db));
    this.domains = busyAware(new SqliteDomains(db));
    this.fleet = busyAware(new SqliteFleet(workDb, progress));
    this.tasks = busyAware(new SqliteTasks(db, this.walSync));
    this.queue = busyAware<AttemptQueue>(queue);
    this.outbox = busyAware<Outbox>(outbox);
    this.audit = busyAware<AuditStore>(audit);
    this.guards = busyAware<Guards>(guards);
    this.ops = busyAware(new SqliteOps(db, { guards, audit, outbox }));
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    await this.walSync?.close();
    this.sqliteGuards.nonces.close();
    this.workDb.close();
    this.raw.close();
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`store schema version ${current} is newer than this refreshd (${MIGRATIONS.length}); upgrade refreshd`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
