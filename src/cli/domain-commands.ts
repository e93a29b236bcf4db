import type { Command } from 'commander';
import type { Product } from '../spec/types.js';
import { storeOptions } from './options.js';
import { accountOption, printJson, withStore, type StoreCliOptions } from './store-session.js';

const DOMAIN = /^(\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `refreshd domain add|list|enable|disable`: work on the same data dir as a running server. */
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
        if (opts.json) printJson(domains);
        else for (const d of domains) process.stdout.write(`${d.name}\t${d.product}\t${d.online ? 'online' : 'offline'}\tgroup=${d.nodeGroup}\t${d.origin ?? '-'}\taccount=${names.get(d.accountId) ?? d.accountId}\n`);
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
