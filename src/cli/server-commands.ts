import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import { makeLogger, openStore, SQLITE_FILE, startServer, startWorkers } from '../app.js';
import type { Config } from '../config/config.js';
import { fleetWarnings } from '../domain/fleet-warnings.js';
import { ensureRootAccount } from '../identity/root-account.js';
import { openVault } from '../identity/vault.js';
import type { Store } from '../store/port.js';
import { ensureSimulatedFleet } from '../worker/fleet-bootstrap.js';
import { configFrom, storeOptions, type StoreFlags } from './options.js';
import { exitWithParent } from './parent-watch.js';

/** The long-running processes (`serve`, `worker`) and `init`, the other command that creates a store. */
export function registerServerCommands(program: Command): void {
  storeOptions(program.command('serve'))
    .description('run the API server (and a worker); creates the store on first start')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:7070; env REFRESHD_LISTEN)')
    .option('--metrics-listen <host:port>', 'serve /metrics on this address instead of the API port (env REFRESHD_METRICS_LISTEN)')
    .addOption(new Option('--no-rate-limit', 'turn off per-user API rate limits (load tests)'))
    .addOption(new Option('--no-worker', 'serve the API only; run `refreshd worker` processes to execute tasks'))
    .action(async (opts: StoreFlags & { listen?: string; metricsListen?: string; rateLimit: boolean; worker: boolean }) => {
      const config = configFrom(opts, { listen: opts.listen, metricsListen: opts.metricsListen, rateLimits: opts.rateLimit ? undefined : false });
      const logger = makeLogger(config.logLevel);
      const store = await openStore(config, { create: true, logger });
      const running = await startServer(config, store, logger, process.env, opts.worker);
      if (running.root.created) rootBanner(running.root.created);
      startupLogger(logger).info(
        { listen: running.url, store: storeName(config), fleet: await fleetOf(store), console: `${running.url}/console/`, metrics: `${running.metricsUrl ?? running.url}/metrics`, workers: running.workerOwners, host: hostname(), pid: process.pid },
        `refreshd listening on ${running.url}`,
      );
      await warnSimulatedOnly(store, logger);
      untilStopped(logger, async () => {
        await running.stop();
        await store.close();
      });
    });

  storeOptions(program.command('worker'))
    .description('run task workers only (execute refresh/preload on the cache nodes)')
    .option('--workers <n>', 'workers in this process', '1')
    .action(async (opts: StoreFlags & { workers: string }) => {
      const config = configFrom(opts);
      const logger = makeLogger(config.logLevel);
      const store = await openStore(config);
      const workers = await startWorkers(config, store, logger, Math.max(1, Number(opts.workers) || 1));
      startupLogger(logger).info({ store: storeName(config), fleet: await fleetOf(store), workers: workers.owners, host: hostname(), pid: process.pid }, 'refreshd worker running');
      untilStopped(logger, async () => {
        await workers.stop();
        await store.close();
      });
    });

  storeOptions(program.command('init'))
    .description('create the store, its master key, the root account and the simulated fleet, then exit')
    .action(async (opts: StoreFlags) => {
      const config = configFrom(opts);
      const store = await openStore(config, { create: true });
      try {
        const vault = await openVault(store, process.env, config.dataDir);
        const root = await ensureRootAccount(store, process.env, async () => vault);
        await ensureSimulatedFleet(store, config.engine);
        process.stdout.write(`refreshd store ready: ${storeName(config)}\n`);
        if (root.created) rootBanner(root.created);
      } finally {
        await store.close();
      }
    });
}

/**
 * The first start's root key: a plain banner on stderr, never a log line, so it stays out of
 * the JSON stream that log shippers keep (and out of stdout, which they parse).
 */
function rootBanner(key: { accessKeyId: string; secret: string }): void {
  process.stderr.write(
    `\nrefreshd created the root account. Its AccessKey pair is shown this once:\n` +
      `  AccessKeyId:     ${key.accessKeyId}\n  AccessKeySecret: ${key.secret}\n` +
      `Keep it; \`refreshd key create\` makes more.\n\n`,
  );
}

/** The one start-up line is written at every level but `silent` (operators set warn to drop per-call lines, not it). */
function startupLogger(logger: Logger): Logger {
  return logger.isLevelEnabled('info') || logger.level === 'silent' ? logger : logger.child({}, { level: 'info' });
}

/** The store as the start-up line names it, without a PostgreSQL password. */
export function storeName(config: Config): string {
  if (!config.store) return `sqlite ${config.dataDir}/${SQLITE_FILE}`;
  try {
    const url = new URL(config.store);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}

async function fleetOf(store: Pick<Store, 'fleet'>): Promise<{ real: number; simulated: number; disabled: number }> {
  const nodes = await store.fleet.listNodes();
  const on = nodes.filter((n) => n.enabled);
  const simulated = on.filter((n) => n.driver === 'simulated').length;
  return { real: on.length - simulated, simulated, disabled: nodes.length - on.length };
}

/** A domain left on the simulated fleet next to real caches would report false Completes: say so at start. */
async function warnSimulatedOnly(store: Pick<Store, 'domains' | 'fleet'>, logger: Logger): Promise<void> {
  for (const w of fleetWarnings(await store.domains.listDomains(), await store.fleet.listNodes())) {
    logger.warn({ warning: w }, 'domain on simulated nodes only');
    process.stderr.write(`refreshd: warning: ${w}\n`);
  }
}

/** Stop cleanly on SIGINT/SIGTERM, and when the npm/npx process that started this one goes away. */
function untilStopped(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    try {
      await stop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  exitWithParent(() => void shutdown('parent process exited'));
}
