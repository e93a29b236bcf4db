import type { Command } from 'commander';
import { resolveConfig, type Config, type Sources } from '../config/config.js';

/**
 * Options every command that opens the store shares. Their environment variables (REFRESHD_DATA,
 * REFRESHD_STORE) are read with the rest of the configuration (config.ts), so `config show` can
 * say which one set a value.
 */
export function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory of the embedded store (default ./data; env REFRESHD_DATA)')
    .option('--config <file>', 'JSON config file (env REFRESHD_CONFIG); see docs/configuration.md')
    .option('--store <url>', 'postgres://… to use PostgreSQL instead of the embedded store (env REFRESHD_STORE)');
}

export interface StoreFlags {
  data?: string;
  config?: string;
  store?: string;
}

/** Defaults ← config file ← environment ← flags, checked against the schema. */
export function resolveFrom(opts: StoreFlags, flags: Record<string, unknown> = {}): { config: Config; sources: Sources } {
  return resolveConfig({
    file: opts.config ?? (process.env.REFRESHD_CONFIG || undefined),
    env: process.env,
    flags: { dataDir: opts.data, store: opts.store, ...flags },
  });
}

export function configFrom(opts: StoreFlags, flags: Record<string, unknown> = {}): Config {
  return resolveFrom(opts, flags).config;
}
