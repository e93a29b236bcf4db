import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config/config.js';
import { DAY_MS } from './domain/quota.js';
import { buildServer } from './http/server.js';
import { AuditLog } from './identity/audit.js';
import { KeyResolver } from './identity/keys.js';
import { ensureRootAccount, type RootBootstrap } from './identity/root-account.js';
import type { SecretBox } from './identity/secret-box.js';
import { openVault } from './identity/vault.js';
import type { TaskStore } from './store/port.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { Executor } from './worker/executor.js';
import { ensureSimulatedFleet } from './worker/fleet-bootstrap.js';
import { GroupSettings } from './worker/group-settings.js';
import { Notifier } from './worker/notifier.js';
import { Worker } from './worker/worker.js';

/** Open the configured store: PostgreSQL for a postgres:// URL, else SQLite in the data directory. */
export async function openStore(config: Config): Promise<TaskStore> {
  if (config.store) return PostgresStore.open(config.store);
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteStore(join(config.dataDir, 'refreshd.db'));
}

/**
 * JSON lines on stdout (or `destination`, e.g. a buffer in tests). Secrets never reach a log
 * line in the first place; the redaction is a second guard against a future mistake.
 */
export function makeLogger(level = process.env.REFRESHD_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const redact = ['secret', '*.secret', 'secretCipher', '*.secretCipher', 'accessKeySecret', '*.accessKeySecret', 'AccessKeySecret', '*.AccessKeySecret'];
  return destination ? pino({ level, base: undefined, redact }, destination) : pino({ level, base: undefined, redact });
}

export interface Running {
  url: string;
  store: TaskStore;
  root: RootBootstrap;
  /** Write the audit records still buffered in memory (identity/audit.ts). */
  flushAudit(): Promise<void>;
  stop(): Promise<void>;
}

export interface Workers {
  stop(): Promise<void>;
}

/**
 * Start `count` workers in this process, sharing one executor thread (the drivers and their
 * HTTP client), and the webhook notifier next to them. The notifier opens the master key
 * (`vault`, by default from `env` and the data dir as startServer does) only when it first signs
 * a delivery, so a worker host without the key keeps executing tasks; its deliveries are
 * retried and say why.
 */
export async function startWorkers(
  config: Config, store: TaskStore, logger: Logger, count = 1, vault?: () => Promise<SecretBox>, env = process.env,
): Promise<Workers> {
  await ensureSimulatedFleet(store, config.engine);
  // The drivers and their HTTP client live in the executor's thread (worker/executor.ts).
  const groups = new GroupSettings(store, logger);
  await groups.start();
  const executor = new Executor({ perNodeConcurrency: config.engine.perNodeConcurrency, requestTimeoutMs: config.engine.requestTimeoutMs }, logger, groups.verifyOf);
  executor.warm();
  const workers = Array.from({ length: count }, () => new Worker(store, executor, config.engine, logger));
  for (const w of workers) w.start();
  const notifier = new Notifier(store, vault ?? openOnce(() => openVault(store, env, config.dataDir)), config.webhooks, logger);
  notifier.start();
  return {
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
      groups.stop();
      await notifier.stop();
      await executor.close();
    },
  };
}

/** Memoize a successful open; a failed one is tried again next time. */
function openOnce<T>(open: () => Promise<T>): () => Promise<T> {
  let opened: Promise<T> | undefined;
  return () => (opened ??= open().catch((err: unknown) => {
    opened = undefined;
    throw err;
  }));
}

/**
 * Start the API server (and its housekeeping, and by default a worker) on an open store.
 * The master key (REFRESHD_MASTER_KEY in `env`, or `<dataDir>/master.key`) opens AccessKey secrets.
 */
export async function startServer(config: Config, store: TaskStore, logger: Logger, env = process.env, withWorker = true): Promise<Running> {
  const vault = await openVault(store, env, config.dataDir);
  const root = await ensureRootAccount(store, env, async () => vault);
  const workers = withWorker ? await startWorkers(config, store, logger, 1, async () => vault) : undefined;
  const audit = new AuditLog(store, logger);
  const app = buildServer({ store, config, logger, keys: new KeyResolver(store, vault), audit });
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    const now = Date.now();
    sweeping = store
      .sweep(now - config.retentionDays * DAY_MS, now, now - config.auditRetentionDays * DAY_MS)
      .catch((err: unknown) => logger.error({ err }, 'retention sweep failed'));
  };
  // Once at start (a server restarted more often than the interval would never sweep), then every 10 minutes.
  const first = setTimeout(sweep, 0);
  const timer = setInterval(sweep, 10 * 60_000);
  timer.unref();
  return {
    url: `http://${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${port}`,
    store,
    root,
    flushAudit: () => audit.flush(),
    stop: async () => {
      clearTimeout(first);
      clearInterval(timer);
      await app.close();
      await sweeping;
      await audit.close();
      await workers?.stop();
    },
  };
}
