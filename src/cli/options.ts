import type { Command } from 'commander';
import { loadConfig, type ConfigOverrides } from '../config/config.js';

/** Options every command that opens the store shares. */
export function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory of the embedded store', process.env.REFRESHD_DATA)
    .option('--config <file>', 'JSON config file', process.env.REFRESHD_CONFIG)
    .option('--store <url>', 'postgres://… to use PostgreSQL instead of the embedded store', process.env.REFRESHD_STORE);
}

export function configFrom(opts: { data?: string; config?: string; store?: string }, extra: ConfigOverrides = {}) {
  return loadConfig({ dataDir: opts.data, store: opts.store, ...extra }, opts.config);
}

