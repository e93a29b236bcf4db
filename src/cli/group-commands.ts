import type { Command } from 'commander';
import { storeOptions } from './options.js';
import { withStore, type StoreCliOptions } from './store-session.js';

/** `refreshd group set|list`: settings shared by the nodes of a group (how outcomes are verified). */
export function registerGroupCommands(program: Command): void {
  const group = program.command('group').description('node group settings');

  storeOptions(group.command('set <name>'))
    .description("set a node group's verification: probe (look at each node's cache after the operation) or ack (take its answer)")
    .requiredOption('--verify <mode>', 'probe or ack')
    .action(async (name: string, opts: StoreCliOptions & { verify: string }) => {
      if (opts.verify !== 'probe' && opts.verify !== 'ack') throw new Error('--verify is probe or ack');
      await withStore(opts, async ({ store }) => {
        await store.fleet.setNodeGroup({ name, verify: opts.verify as 'probe' | 'ack' });
        process.stdout.write(`group ${name}: verify ${opts.verify} (running workers pick it up within a second)\n`);
      });
    });

  storeOptions(group.command('list'))
    .description('node groups: their nodes and verification (probe unless set)')
    .option('--json', 'print JSON')
    .action(async (opts: StoreCliOptions & { json?: boolean }) => {
      await withStore(opts, async ({ store }) => {
        const set = new Map((await store.fleet.listNodeGroups()).map((g) => [g.name, g.verify]));
        const nodes = await store.fleet.listNodes();
        const names = [...new Set([...nodes.map((n) => n.group), ...set.keys()])].sort();
        const rows = names.map((name) => ({ name, verify: set.get(name) ?? 'probe', nodes: nodes.filter((n) => n.group === name).map((n) => n.name) }));
        if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else for (const r of rows) process.stdout.write(`${r.name}\tverify=${r.verify}\t${r.nodes.join(',') || '-'}\n`);
      });
    });
}
