import type { Command } from 'commander';
import { keys } from '../config/schema.js';
import { resolveFrom, storeOptions, type StoreFlags } from './options.js';
import { storeName } from './server-commands.js';

/** `refreshd config show`: the configuration `serve` would run with here, and where each value came from. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('the effective configuration (see docs/configuration.md)');
  storeOptions(config.command('show'))
    .description('print every configuration key, its effective value and where it came from')
    .option('--listen <host:port>', 'as `serve --listen`')
    .option('--json', 'print JSON: {key: {value, source}}')
    .action((opts: StoreFlags & { listen?: string; json?: boolean }) => {
      const { config: cfg, sources } = resolveFrom(opts, { listen: opts.listen });
      const rows = keys().map(([path]) => {
        let value = path.split('.').reduce<unknown>((at, p) => (at as Record<string, unknown> | undefined)?.[p], cfg);
        if (path === 'store' && cfg.store) value = storeName(cfg);
        if (path === 'listen') value = `${cfg.listen.host.includes(':') ? `[${cfg.listen.host}]` : cfg.listen.host}:${cfg.listen.port}`;
        return { path, value, source: sources[path] };
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(Object.fromEntries(rows.map((r) => [r.path, { value: r.value ?? null, source: r.source }])), null, 2) + '\n');
        return;
      }
      const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));
      const width = Math.max(...rows.map((r) => r.path.length));
      const vwidth = Math.max(...rows.map((r) => show(r.value).length));
      for (const r of rows) process.stdout.write(`${r.path.padEnd(width)}  ${show(r.value).padEnd(vwidth)}  ${r.source}\n`);
    });
}
