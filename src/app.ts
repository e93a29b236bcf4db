import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config/config.js';
import { DAY_MS } from './domain/quota.js';
import { EdgeHttpClient } from './edges/http-client.js';
import { createDrivers } from './edges/registry.js';
import { buildServer } from './http/server.js';
import { ensureRootAccount, type RootBootstrap } from './identity/root-account.js';
import type { TaskStore } from './store/port.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { ensureSimulatedFleet } from './worker/fleet-bootstrap.js';
import { Worker } from './worker/worker.js';

/** Open the configured store: PostgreSQL for a postgres:// URL, else SQLite in the data directory. */
export async function openStore(config: Config): Promise<TaskStore> {
  if (config.store) return PostgresStore.open(config.store);
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteStore(join(config.dataDir, 'refreshd.db'));
}

export function makeLogger(level = process.env.REFRESHD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined, redact: ['secret', '*.secret', 'accessKeySecret'] });
}

export interface Running {
  url: string;
  store: TaskStore;
  root: RootBootstrap;
  stop(): Promise<void>;
}

export interface Workers {
  stop(): Promise<void>;
}

/** Start `count` workers in this process, with the drivers and one shared HTTP client. */
export async function startWorkers(config: Config, store: TaskStore, logger: Logger, count = 1): Promise<Workers> {
  await ensureSimulatedFleet(store, config.engine);
  const http = new EdgeHttpClient({ connectionsPerNode: config.engine.perNodeConcurrency, timeoutMs: config.engine.requestTimeoutMs });
  const drivers = createDrivers(http);
  const workers = Array.from({ length: count }, () => new Worker(store, drivers, config.engine, logger));
  for (const w of workers) w.start();
  return {
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await http.close();
    },
  };
}

/** Start the API server (and its housekeeping, and by default a worker) on an open store. */
export async function startServer(config: Config, store: TaskStore, logger: Logger, env = process.env, withWorker = true): Promise<Running> {
  const root = await ensureRootAccount(store, env);
  const workers = withWorker ? await startWorkers(config, store, logger) : undefined;
  const app = buildServer({ store, config, logger });
  await app.listen({ host: config.listen.host, port: config.listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  const sweep = () =>
    store.sweep(Date.now() - config.retentionDays * DAY_MS, Date.now()).catch((err: unknown) => logger.error({ err }, 'retention sweep failed'));
  const timer = setInterval(sweep, 10 * 60_000);
  timer.unref();
  return {
    url: `http://${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${port}`,
    store,
    root,
    stop: async () => {
      clearInterval(timer);
      await app.close();
      await workers?.stop();
    },
  };
}
