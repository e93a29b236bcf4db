import type { Command } from 'commander';
import { openStore } from '../app.js';
import type { Store } from '../store/port.js';
import { DRIVER_NAMES } from '../edges/registry.js';
import { configFrom, storeOptions } from './options.js';

/** `refreshd node add|list|remove|enable|disable`: the cache fleet, on the same data dir as the server. */
export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('manage the cache nodes that tasks run on');

  storeOptions(node.command('add <name>'))
    .description('add a cache node')
    .requiredOption('--driver <driver>', `one of ${DRIVER_NAMES.join(', ')}`)
    .requiredOption('--address <host:port>', "the node's HTTP listener, e.g. 127.0.0.1:6081")
    .option('--group <group>', 'node group (domains map to a group)', 'default')
    .option('--area <area>', 'domestic or overseas (PushObjectCache Area)', 'domestic')
    .option('--option <key=value...>', 'driver option, repeatable; values are JSON when they parse as JSON', collect, [])
    .action(async (name: string, opts: { data?: string; config?: string; driver: string; address: string; group: string; area: string; option: string[] }) => {
      if (!(DRIVER_NAMES as readonly string[]).includes(opts.driver)) throw new Error(`--driver must be one of ${DRIVER_NAMES.join(', ')}`);
      if (opts.area !== 'domestic' && opts.area !== 'overseas') throw new Error('--area is domestic or overseas');
      if (opts.driver !== 'simulated' && !/^[\w.-]+:\d{1,5}$|^\[[\d:a-f]+\]:\d{1,5}$/i.test(opts.address)) throw new Error('--address wants host:port');
      const store = await openStore(configFrom(opts));
      try {
        const added = await store.fleet.addNode({
          name, driver: opts.driver, address: opts.address, group: opts.group, area: opts.area,
          enabled: true, options: parseOptions(opts.option), createdAt: Date.now(),
        });
        process.stdout.write(`added ${added.driver} node ${added.name} (${added.address}, group ${added.group}, ${added.area})\n`);
      } catch (err) {
        if (/UNIQUE/.test(String(err))) throw new Error(`node ${name} already exists`);
        throw err;
      } finally {
        await store.close();
      }
    });

  storeOptions(node.command('list'))
    .description('list cache nodes')
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; config?: string; json?: boolean }) => {
      const store = await openStore(configFrom(opts));
      try {
        const nodes = await store.fleet.listNodes();
        if (opts.json) process.stdout.write(JSON.stringify(nodes, null, 2) + '\n');
        else for (const n of nodes) process.stdout.write(`${n.name}\t${n.driver}\t${n.address}\tgroup=${n.group}\t${n.area}\t${n.enabled ? 'enabled' : 'disabled'}\n`);
      } finally {
        await store.close();
      }
    });

  const change = (verb: string, describe: string, run: (store: Store, name: string) => Promise<boolean>) =>
    storeOptions(node.command(`${verb} <name>`))
      .description(describe)
      .action(async (name: string, opts: { data?: string; config?: string }) => {
        const store = await openStore(configFrom(opts));
        try {
          if (!(await run(store, name))) throw new Error(`no node ${name}`);
          process.stdout.write(`${verb}d ${name}\n`); // removed, disabled, enabled
        } finally {
          await store.close();
        }
      });
  change('remove', 'remove a node; its unfinished attempts leave their tasks’ scope', (s, n) => s.fleet.removeNode(n));
  change('disable', 'stop sending new work to a node (its pending attempts wait)', (s, n) => s.fleet.setNodeEnabled(n, false));
  change('enable', 'send work to a node again', (s, n) => s.fleet.setNodeEnabled(n, true));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseOptions(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--option wants key=value, got "${pair}"`);
    const value = pair.slice(eq + 1);
    try {
      out[pair.slice(0, eq)] = JSON.parse(value);
    } catch {
      out[pair.slice(0, eq)] = value;
    }
  }
  return out;
}
