import type { Command } from 'commander';
import { openStore } from '../app.js';
import { checkNode, type CheckReport } from '../edges/check.js';
import type { EdgeNode } from '../edges/driver.js';
import { EdgeHttpClient } from '../edges/http-client.js';
import { createDrivers, DRIVER_NAMES } from '../edges/registry.js';
import type { CacheNode, Store } from '../store/port.js';
import { configFrom, storeOptions } from './options.js';
import { withStore, type StoreCliOptions } from './store-session.js';

/** `refreshd node add|list|check|remove|enable|disable`: the cache fleet, on the same data dir as the server. */
export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('manage the cache nodes that tasks run on');

  storeOptions(node.command('add <name>'))
    .description('add a cache node')
    .requiredOption('--driver <driver>', `one of ${DRIVER_NAMES.join(', ')}`)
    .requiredOption('--address <host:port>', "the node's HTTP listener, e.g. 127.0.0.1:6081")
    .option('--group <group>', 'node group (domains map to a group)', 'default')
    .option('--area <area>', 'domestic or overseas (PushObjectCache Area)', 'domestic')
    .option('--option <key=value...>', 'driver option, repeatable; values are JSON when they parse as JSON', collect, [])
    .option('--check', 'prove the node works (as `node check`) before adding it; add nothing if it does not')
    .option('--url <url>', 'with --check: the canary object (default: the root of a domain of the group)')
    .action(async (name: string, opts: StoreCliOptions & { driver: string; address: string; group: string; area: string; option: string[]; check?: boolean; url?: string }) => {
      if (!(DRIVER_NAMES as readonly string[]).includes(opts.driver)) throw new Error(`--driver must be one of ${DRIVER_NAMES.join(', ')}`);
      if (opts.area !== 'domestic' && opts.area !== 'overseas') throw new Error('--area is domestic or overseas');
      if (opts.driver !== 'simulated' && !/^[\w.-]+:\d{1,5}$|^\[[\d:a-f]+\]:\d{1,5}$/i.test(opts.address)) throw new Error('--address wants host:port');
      await withStore(opts, async ({ store }) => {
        const candidate: CacheNode = {
          id: 0, name, driver: opts.driver, address: opts.address, group: opts.group, area: opts.area as CacheNode['area'],
          enabled: true, options: parseOptions(opts.option), createdAt: Date.now(),
        };
        if (opts.check) {
          const [report] = await check(store, [candidate], opts.url);
          print(report, false);
          if (!report.ok) {
            process.exitCode = 1;
            process.stderr.write(`refreshd: node ${name} not added: ${report.diagnosis}\n`);
            return;
          }
        }
        try {
          const { id: _, ...fields } = candidate;
          const added = await store.fleet.addNode(fields);
          process.stdout.write(`added ${added.driver} node ${added.name} (${added.address}, group ${added.group}, ${added.area})\n`);
        } catch (err) {
          if (/UNIQUE|duplicate key/.test(String(err))) throw new Error(`node ${name} already exists`);
          throw err;
        }
      });
    });

  storeOptions(node.command('list'))
    .description('list cache nodes (simulated ones are marked: they touch no cache)')
    .option('--json', 'print JSON')
    .action(async (opts: StoreCliOptions & { json?: boolean }) => {
      await withStore(opts, async ({ store }) => {
        const nodes = await store.fleet.listNodes();
        const verify = new Map((await store.fleet.listNodeGroups()).map((g) => [g.name, g.verify]));
        const verifyOf = (n: CacheNode) => (n.driver === 'simulated' ? 'ack' : verify.get(n.group) ?? 'probe');
        if (opts.json) {
          process.stdout.write(JSON.stringify(nodes.map((n) => ({ ...n, simulated: n.driver === 'simulated', verify: verifyOf(n) })), null, 2) + '\n');
          return;
        }
        for (const n of nodes) {
          const mark = n.driver === 'simulated' ? '\tSIMULATED (no cache)' : '';
          process.stdout.write(`${n.name}\t${n.driver}\t${n.address}\tgroup=${n.group}\t${n.area}\t${n.enabled ? 'enabled' : 'disabled'}\tverify=${verifyOf(n)}${mark}\n`);
        }
        if (nodes.some((n) => n.driver === 'simulated') && nodes.some((n) => n.driver !== 'simulated')) {
          process.stderr.write('refreshd: simulated nodes complete tasks without touching a cache; `refreshd node remove --simulated` drops them\n');
        }
      });
    });

  storeOptions(node.command('check [name]'))
    .description('prove nodes end to end with a canary object: reachable, probe, cached, purge evicts; exit 1 on any failure')
    .option('--all', 'check every enabled node')
    .option('--url <url>', 'the canary object, e.g. http://www.example.com/robots.txt (default: node option canary, else the root of a domain of its group)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, opts: StoreCliOptions & { all?: boolean; url?: string; json?: boolean }) => {
      if (!name === !opts.all) throw new Error('give a node name or --all');
      await withStore(opts, async ({ store }) => {
        const nodes = (await store.fleet.listNodes()).filter((n) => (opts.all ? n.enabled : n.name === name));
        if (nodes.length === 0) throw new Error(opts.all ? 'no enabled nodes' : `no node ${name}`);
        const reports = await check(store, nodes, opts.url);
        if (opts.json) process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
        else for (const r of reports) print(r, true);
        if (reports.some((r) => !r.ok)) process.exitCode = 1;
      });
    });

  storeOptions(node.command('remove [name]'))
    .description('remove a node (or, with --simulated, the whole built-in simulated fleet); unfinished attempts leave their tasks’ scope')
    .option('--simulated', 'remove every simulated node')
    .action(async (name: string | undefined, opts: StoreCliOptions & { simulated?: boolean }) => {
      if (!name === !opts.simulated) throw new Error('give a node name or --simulated');
      await withStore(opts, async ({ store }) => {
        const names = opts.simulated ? (await store.fleet.listNodes()).filter((n) => n.driver === 'simulated').map((n) => n.name) : [name!];
        if (!opts.simulated && !(await store.fleet.removeNode(name!))) throw new Error(`no node ${name}`);
        if (opts.simulated) for (const n of names) await store.fleet.removeNode(n);
        process.stdout.write(names.length === 0 ? 'no simulated nodes\n' : `removed ${names.join(', ')}\n`);
      });
    });

  const change = (verb: string, describe: string, run: (store: Store, name: string) => Promise<boolean>) =>
    storeOptions(node.command(`${verb} <name>`))
      .description(describe)
      .action(async (name: string, opts: { data?: string; config?: string }) => {
        const store = await openStore(configFrom(opts));
        try {
          if (!(await run(store, name))) throw new Error(`no node ${name}`);
          process.stdout.write(`${verb}d ${name}\n`); // disabled, enabled
        } finally {
          await store.close();
        }
      });
  change('disable', 'stop sending new work to a node (its pending attempts wait)', (s, n) => s.fleet.setNodeEnabled(n, false));
  change('enable', 'send work to a node again', (s, n) => s.fleet.setNodeEnabled(n, true));
}

/** Check nodes one after another (a canary is purged on each), with the canary each one uses. */
async function check(store: Pick<Store, 'domains'>, nodes: CacheNode[], url: string | undefined): Promise<CheckReport[]> {
  const domains = await store.domains.listDomains();
  const http = new EdgeHttpClient({ connectionsPerNode: 2, timeoutMs: 10_000 });
  const drivers = createDrivers(http);
  try {
    const reports: CheckReport[] = [];
    for (const n of nodes) {
      const own = typeof n.options.canary === 'string' ? n.options.canary : undefined;
      const domain = domains.find((d) => d.nodeGroup === n.group) ?? domains[0];
      const canary = url ?? own ?? (domain ? `http://${domain.name.replace(/^\*\./, 'www.')}/` : null);
      const edge: EdgeNode = { id: n.id, name: n.name, driver: n.driver, address: n.address, options: n.options };
      reports.push(await checkNode(drivers[n.driver], edge, canary, http));
    }
    return reports;
  } finally {
    await http.close();
  }
}

function print(r: CheckReport, summary: boolean): void {
  for (const s of r.steps) process.stdout.write(`${r.node}\t${s.ok ? 'ok  ' : 'FAIL'}\t${s.step}\t${s.detail}\n`);
  if (summary) process.stdout.write(`${r.node}\t${r.ok ? 'PASSED' : 'FAILED'}${r.canary ? `\tcanary ${r.canary}` : ''}\n`);
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
