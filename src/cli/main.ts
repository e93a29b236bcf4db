import { Command, Option } from 'commander';
import { parseListen } from '../config/config.js';
import { fleetWarnings } from '../domain/fleet-warnings.js';
import { makeLogger, openStore, startServer, startWorkers } from '../app.js';
import { registerClientCommands } from './client-commands.js';
import { registerAccountCommands } from './account-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerDomainCommands } from './domain-commands.js';
import { registerEdgeCommands } from './edge-commands.js';
import { registerGroupCommands } from './group-commands.js';
import { registerKeyCommands } from './key-commands.js';
import { registerNodeCommands } from './node-commands.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerUserCommands } from './user-commands.js';
import { registerWebhookCommands } from './webhook-commands.js';
import { configFrom, storeOptions } from './options.js';

const program = new Command('refreshd')
  .description('CDN refresh and preload control plane, wire-compatible with Alibaba Cloud CDN/VOD')
  .showHelpAfterError();

storeOptions(program.command('serve'))
  .description('run the API server on the embedded store')
  .option('--listen <host:port>', 'address to listen on', process.env.REFRESHD_LISTEN)
  .addOption(new Option('--no-rate-limit', 'turn off per-user API rate limits (load tests)'))
  .addOption(new Option('--no-worker', 'serve the API only; run `refreshd worker` processes to execute tasks'))
  .action(async (opts: { data?: string; config?: string; listen?: string; rateLimit: boolean; worker: boolean }) => {
    const config = configFrom(opts, { listen: opts.listen ? parseListen(opts.listen) : undefined, rateLimits: opts.rateLimit ? undefined : false });
    const logger = makeLogger();
    const store = await openStore(config);
    const running = await startServer(config, store, logger, process.env, opts.worker);
    if (running.root.created) {
      const { accessKeyId, secret } = running.root.created;
      process.stdout.write(
        `\nrefreshd created the root account. Its AccessKey pair is shown this once:\n` +
          `  AccessKeyId:     ${accessKeyId}\n  AccessKeySecret: ${secret}\n\n`,
      );
    }
    process.stdout.write(`refreshd listening on ${running.url} (data: ${config.dataDir})\n`);
    // A domain left on the simulated fleet next to real caches would report false Completes.
    for (const w of fleetWarnings(await store.listDomains(), await store.listNodes())) {
      logger.warn({ warning: w }, 'domain on simulated nodes only');
      process.stderr.write(`refreshd: warning: ${w}\n`);
    }
    const shutdown = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      await running.stop();
      await store.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
  });

storeOptions(program.command('worker'))
  .description('run task workers only (execute refresh/preload on the cache nodes)')
  .option('--workers <n>', 'workers in this process', '1')
  .action(async (opts: { data?: string; config?: string; workers: string }) => {
    const config = configFrom(opts);
    const logger = makeLogger();
    const store = await openStore(config);
    const workers = await startWorkers(config, store, logger, Math.max(1, Number(opts.workers) || 1));
    process.stdout.write(`refreshd worker running (data: ${config.dataDir})\n`);
    const shutdown = async () => {
      await workers.stop();
      await store.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown());
    process.once('SIGTERM', () => void shutdown());
  });

registerClientCommands(program);
registerAccountCommands(program);
registerUserCommands(program);
registerKeyCommands(program);
registerPolicyCommands(program);
registerDomainCommands(program);
registerNodeCommands(program);
registerEdgeCommands(program);
registerGroupCommands(program);
registerAuditCommands(program);
registerWebhookCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`refreshd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
