import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config/config.js';
import { DAY_MS } from './domain/quota.js';
import { buildServer } from './http/server.js';
import { registerMetrics } from './http/ops-routes.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AuditLog } from './identity/audit.js';
import { KeyResolver } from './identity/keys.js';
import { ensureRootAccount, type RootBootstrap } from './identity/root-account.js';
import type { SecretBox } from './identity/secret-box.js';
import { openVault } from './identity/vault.js';
import type { Store } from './store/port.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { secureDataDir } from './store/sqlite/data-dir.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { Executor } from './worker/executor.js';
import { HandOff } from './worker/hand-off.js';
import { ensureSimulatedFleet } from './worker/fleet-bootstrap.js';
import { GroupSettings } from './worker/group-settings.js';
import { Notifier } from './worker/notifier.js';
import { Worker } from './worker/worker.js';

/**

 * Open the configured store: PostgreSQL for a postgres:// URL, else SQLite in the data directory.
 * Only `serve` and `init` pass `create`: any other command run in the wrong directory would
 * otherwise make a second, empty store (with its own root account and master key) and act on it.
 * A PostgreSQL URL names a database the operator made, so its schema is always brought up to date.
 * The data directory is made private to this user (what had to be tightened is logged as a
 * warning; without a logger on stderr, as admin commands' stdout is their answer).
 */
export async function openStore(config: Config, opts: { create?: boolean; logger?: Logger } = {}): Promise<Store> {
  if (config.store) return PostgresStore.open(config.store);
  const file = join(config.dataDir, SQLITE_FILE);
  if (!opts.create && !existsSync(file)) {
    throw new Error(`no refreshd store in ${resolve(config.dataDir)} — pass --data DIR or set REFRESHD_DATA (\`refreshd init\` or \`refreshd serve\` creates one)`);
  }
  const log = opts.logger ?? makeLogger(undefined, process.stderr);
  for (const path of secureDataDir(config.dataDir)) {
    log.warn({ path }, 'others could read this refreshd file or directory; access is now limited to its owner');
  }
  return new SqliteStore(file);
}

export const SQLITE_FILE = 'refreshd.db';

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
  /** Where /metrics is served when it has its own listener (config `metricsListen`). */
  metricsUrl?: string;
  store: Store;
  root: RootBootstrap;
  /** Lease owner names of the workers in this process (none with `--no-worker`). */
  workerOwners: string[];
  /** Write the audit records still buffered in memory (identity/audit.ts). */
  flushAudit(): Promise<void>;
  stop(): Promise<void>;
}

export interface Workers {
  /** Gives the submits of this process to these workers (worker/hand-off.ts). */
  handOff: HandOff;
  /** The workers' lease owner names (the start-up line ties them to this host and pid). */
  owners: string[];
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
  config: Config, store: Store, logger: Logger, count = 1, vault?: () => Promise<SecretBox>, env = process.env,
): Promise<Workers> {
  await ensureSimulatedFleet(store, config.engine);
  // The drivers and their HTTP client live in the executor's thread (worker/executor.ts).
  const groups = new GroupSettings(store, logger);
  await groups.start();
  const executor = new Executor(
    { perNodeConcurrency: config.engine.perNodeConcurrency, requestTimeoutMs: config.engine.requestTimeoutMs, attemptTimeoutMs: config.engine.attemptTimeoutMs },
    logger, groups.verifyOf,
  );
  executor.warm();
  const handOff = new HandOff();
  const workers = Array.from({ length: count }, () => new Worker(store, executor, config.engine, logger, handOff));
  for (const w of workers) w.start();
  const notifier = new Notifier(store, vault ?? openOnce(() => openVault(store, env, config.dataDir)), config.webhooks, logger);
  notifier.start();
  return {
    handOff,
    owners: workers.map((w) => w.owner),
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
export async function startServer(config: Config, store: Store, logger: Logger, env = process.env, withWorker = true): Promise<Running> {
  const vault = await openVault(store, env, config.dataDir);
  const root = await ensureRootAccount(store, env, async () => vault);
  const workers = withWorker ? await startWorkers(config, store, logger, 1, async () => vault) : undefined;
  const audit = new AuditLog(store, logger);
  const app = buildServer({ store, config, logger, keys: new KeyResolver(store, vault), audit, handOff: workers?.handOff }, { metrics: !config.metricsListen });
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const metrics = config.metricsListen ? await startMetricsServer(config.metricsListen, store, logger) : undefined;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    const now = Date.now();
    sweeping = store
      .ops.sweep(now - config.retentionDays * DAY_MS, now, now - config.auditRetentionDays * DAY_MS)
      .catch((err: unknown) => logger.error({ err }, 'retention sweep failed'));
  };
  // Once at start (a server restarted more often than the interval would never sweep), then every 10 minutes.
  const first = setTimeout(sweep, 0);
  const timer = setInterval(sweep, 10 * 60_000);
  timer.unref();
  return {
    url: httpUrl(config.listen.host, port),
    metricsUrl: metrics ? httpUrl(config.metricsListen!.host, (metrics.server.address() as { port: number }).port) : undefined,
    store,
    root,
    workerOwners: workers?.owners ?? [],
    flushAudit: () => audit.flush(),
    stop: async () => {
      clearTimeout(first);
      clearInterval(timer);
      await app.close();
      await metrics?.close();
      await sweeping;
      await audit.close();
      await workers?.stop();
    },
  };
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** /metrics on its own address, e.g. a management network the API's callers cannot reach. */
async function startMetricsServer(listen: { host: string; port: number }, store: Store, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, disableRequestLogging: true });
  registerMetrics(app, store, logger);
  await app.listen({ host: listen.host, port: listen.port });
  return app;
}
