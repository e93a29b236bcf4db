import type { Command } from 'commander';
import { openStore } from '../app.js';
import { ensureRootAccount } from '../identity/root-account.js';
import type { Product } from '../spec/types.js';
import { configFrom, storeOptions } from './options.js';

const DOMAIN = /^(\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `refreshd domain add|list|enable|disable`: work on the same data dir as a running server. */
export function registerDomainCommands(program: Command): void {
  const domain = program.command('domain').description('manage the domains of the root account');

  storeOptions(domain.command('add <name>'))
    .description('register a domain (www.example.com or *.example.com)')
    .option('--origin <url>', 'origin that preloads warm from, e.g. http://127.0.0.1:8080')
    .option('--product <product>', 'cdn or vod', 'cdn')
    .option('--group <group>', 'node group whose cache nodes serve the domain', 'default')
    .action(async (name: string, opts: { data?: string; config?: string; origin?: string; product: string; group: string }) => {
      const lower = name.toLowerCase();
      if (!DOMAIN.test(lower)) throw new Error(`"${name}" is not a domain name`);
      if (opts.product !== 'cdn' && opts.product !== 'vod') throw new Error('--product is cdn or vod');
      if (opts.origin !== undefined && !/^https?:\/\/[^/]+/i.test(opts.origin)) throw new Error('--origin wants an http(s) URL');
      const store = await openStore(configFrom(opts));
      try {
        const { account, created } = await ensureRootAccount(store, process.env);
        if (created) process.stdout.write(`created the root account; AccessKeyId ${created.accessKeyId}, AccessKeySecret ${created.secret} (shown once)\n`);
        if (await store.findDomain(lower)) throw new Error(`domain ${lower} is already registered`);
        await store.addDomain({ name: lower, accountId: account.id, product: opts.product as Product, origin: opts.origin ?? null, online: true, nodeGroup: opts.group, createdAt: Date.now() });
        process.stdout.write(`added ${opts.product} domain ${lower}${opts.origin ? ` (origin ${opts.origin})` : ''}\n`);
      } finally {
        await store.close();
      }
    });

  storeOptions(domain.command('list'))
    .description('list registered domains')
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; config?: string; json?: boolean }) => {
      const store = await openStore(configFrom(opts));
      try {
        const domains = await store.listDomains();
        if (opts.json) process.stdout.write(JSON.stringify(domains, null, 2) + '\n');
        else for (const d of domains) process.stdout.write(`${d.name}\t${d.product}\t${d.online ? 'online' : 'offline'}\tgroup=${d.nodeGroup}\t${d.origin ?? '-'}\n`);
      } finally {
        await store.close();
      }
    });

  for (const [verb, online] of [['enable', true], ['disable', false]] as const) {
    storeOptions(domain.command(`${verb} <name>`))
      .description(`take a domain ${online ? 'online' : 'offline'} (offline domains refuse new tasks)`)
      .action(async (name: string, opts: { data?: string; config?: string }) => {
        const store = await openStore(configFrom(opts));
        try {
          if (!(await store.setDomainOnline(name.toLowerCase(), online))) throw new Error(`no domain ${name}`);
          process.stdout.write(`${name} is ${online ? 'online' : 'offline'}\n`);
        } finally {
          await store.close();
        }
      });
  }
}
