import type { Command } from 'commander';
import { simulatedOnlyWarning } from '../domain/fleet-warnings.js';
import type { Product } from '../spec/types.js';
import type { Store } from '../store/port.js';
import { storeOptions } from './options.js';
import { accountOption, printJson, withStore, type StoreCliOptions } from './store-session.js';

const DOMAIN = /^(\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `refreshd domain add|set|remove|list|enable|disable`: work on the same data dir as a running server. */
export function registerDomainCommands(program: Command): void {
  const domain = program.command('domain').description("manage accounts' domains");

  storeOptions(domain.command('add <name>'))
    .description('register a domain (www.example.com or *.example.com) to an account')
    .option('--origin <url>', 'origin that preloads warm from, e.g. http://127.0.0.1:8080')
    .option('--product <product>', 'cdn or vod', 'cdn')
    .option('--group <group>', 'node group whose cache nodes serve the domain', 'default')
    .option(...accountOption)
    .action(async (name: string, opts: StoreCliOptions & { origin?: string; product: string; group: string; account?: string }) => {
      const lower = name.toLowerCase();
      if (!DOMAIN.test(lower)) throw new Error(`"${name}" is not a domain name`);
      if (opts.product !== 'cdn' && opts.product !== 'vod') throw new Error('--product is cdn or vod');
      if (opts.origin !== undefined && !/^https?:\/\/[^/]+/i.test(opts.origin)) throw new Error('--origin wants an http(s) URL');
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        // Domain names are global: one registration, by one account.
        if (await s.store.domains.findDomain(lower)) throw new Error(`domain ${lower} is already registered`);
        await s.store.domains.addDomain({ name: lower, accountId: account.id, product: opts.product as Product, origin: opts.origin ?? null, online: true, nodeGroup: opts.group, createdAt: Date.now() });
        process.stdout.write(`added ${opts.product} domain ${lower} to account ${account.name}${opts.origin ? ` (origin ${opts.origin})` : ''}\n`);
        await warn(s.store, lower);
      });
    });

  storeOptions(domain.command('set <name>'))
    .description("change a domain's node group, origin or product")
    .option('--group <group>', 'node group whose cache nodes serve the domain')
    .option('--origin <url>', "origin that preloads warm from ('' for none)")
    .option('--product <product>', 'cdn or vod')
    .action(async (name: string, opts: StoreCliOptions & { origin?: string; product?: string; group?: string }) => {
      const lower = name.toLowerCase();
      if (opts.product !== undefined && opts.product !== 'cdn' && opts.product !== 'vod') throw new Error('--product is cdn or vod');
      if (opts.origin && !/^https?:\/\/[^/]+/i.test(opts.origin)) throw new Error('--origin wants an http(s) URL');
      if (opts.group === undefined && opts.origin === undefined && opts.product === undefined) throw new Error('give --group, --origin or --product');
      await withStore(opts, async (s) => {
        const changes = { nodeGroup: opts.group, origin: opts.origin === undefined ? undefined : opts.origin || null, product: opts.product as Product | undefined };
        if (!(await s.store.domains.updateDomain(lower, changes))) throw new Error(`no domain ${lower}`);
        const d = (await s.store.domains.findDomain(lower))!;
        process.stdout.write(`${lower}: group ${d.nodeGroup}, origin ${d.origin ?? '-'}, ${d.product}\n`);
        await warn(s.store, lower);
      });
    });

  storeOptions(domain.command('remove <name>'))
    .description('unregister a domain (new tasks for it are refused; its tasks stay visible for the describe window)')
    .action(async (name: string, opts: StoreCliOptions) => {
      await withStore(opts, async (s) => {
        if (!(await s.store.domains.removeDomain(name.toLowerCase()))) throw new Error(`no domain ${name}`);
        process.stdout.write(`removed ${name.toLowerCase()}\n`);
      });
    });

  storeOptions(domain.command('list'))
    .description('list registered domains (of every account, or of one)')
    .option('--account <name>', "only this account's domains")
    .option('--json', 'print JSON')
    .action(async (opts: StoreCliOptions & { json?: boolean; account?: string }) => {
      await withStore(opts, async (s) => {
        const account = opts.account === undefined ? undefined : await s.account(opts.account);
        const domains = await s.store.domains.listDomains(account?.id);
        const names = new Map((await s.store.identity.listAccounts()).map((a) => [a.id, a.name]));
        const nodes = await s.store.fleet.listNodes();
        if (opts.json) printJson(domains.map((d) => ({ ...d, warning: simulatedOnlyWarning(d, nodes) })));
        else {
          for (const d of domains) {
            const flag = simulatedOnlyWarning(d, nodes) ? '\tSIMULATED ONLY' : '';
            process.stdout.write(`${d.name}\t${d.product}\t${d.online ? 'online' : 'offline'}\tgroup=${d.nodeGroup}\t${d.origin ?? '-'}\taccount=${names.get(d.accountId) ?? d.accountId}${flag}\n`);
          }
          for (const d of domains) {
            const w = simulatedOnlyWarning(d, nodes);
            if (w) process.stderr.write(`refreshd: warning: ${w}\n`);
          }
        }
      });
    });

  for (const [verb, online] of [['enable', true], ['disable', false]] as const) {
    storeOptions(domain.command(`${verb} <name>`))
      .description(`take a domain ${online ? 'online' : 'offline'} (offline domains refuse new tasks)`)
      .action(async (name: string, opts: StoreCliOptions) => {
        await withStore(opts, async (s) => {
          if (!(await s.store.domains.setDomainOnline(name.toLowerCase(), online))) throw new Error(`no domain ${name}`);
          process.stdout.write(`${name} is ${online ? 'online' : 'offline'}\n`);
        });
      });
  }
}

/** Say so when the domain is left on simulated nodes while real ones exist (fleet-warnings.ts). */
async function warn(store: Pick<Store, 'domains' | 'fleet'>, name: string): Promise<void> {
  const d = await store.domains.findDomain(name);
  const w = d && simulatedOnlyWarning(d, await store.fleet.listNodes());
  if (w) process.stderr.write(`refreshd: warning: ${w}\n`);
}
