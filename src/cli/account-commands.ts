import type { Command } from 'commander';
import { addAccount, setAccountServices } from '../identity/admin.js';
import type { Product } from '../spec/types.js';
import { storeOptions } from './options.js';
import { printJson, printNewKey, printRows, withStore, type StoreCliOptions } from './store-session.js';

/** `refreshd account add|list|suspend|resume`: tenants, each with its own keys, users, domains and quotas. */
export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('manage accounts (tenants): each has its own keys, users, policies, domains and quotas');

  storeOptions(account.command('add <name>'))
    .description('create an account and its first root AccessKey (the secret is shown once)')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: StoreCliOptions & { json?: boolean }) => {
      await withStore(opts, async (s) => {
        const { account: created, key } = await addAccount(s.store, await s.vault(), name);
        if (opts.json) printJson({ name: created.name, uid: created.uid, accessKeyId: key.accessKeyId, accessKeySecret: key.secret });
        else printNewKey(`created account ${created.name} (uid ${created.uid})`, key);
      });
    });

  storeOptions(account.command('list'))
    .description('list accounts with their service state and how many keys, users and domains they have')
    .option('--json', 'print JSON')
    .action(async (opts: StoreCliOptions & { json?: boolean }) => {
      await withStore(opts, async (s) => {
        const [accounts, keys, domains] = await Promise.all([s.store.identity.listAccounts(), s.store.identity.listAccessKeys(), s.store.domains.listDomains()]);
        const rows = await Promise.all(
          accounts.map(async (a) => ({
            name: a.name,
            uid: a.uid,
            services: a.services,
            keys: keys.filter((k) => k.accountId === a.id).length,
            users: (await s.store.identity.listUsers(a.id)).length,
            domains: domains.filter((d) => d.accountId === a.id).length,
          })),
        );
        if (opts.json) printJson(rows);
        else printRows(rows.map((r) => [r.name, r.uid, `cdn=${r.services.cdn}`, `vod=${r.services.vod}`, `keys=${r.keys}`, `users=${r.users}`, `domains=${r.domains}`]));
      });
    });

  for (const [verb, state] of [['suspend', 'suspended'], ['resume', 'active']] as const) {
    storeOptions(account.command(`${verb} <name>`))
      .description(
        verb === 'suspend'
          ? "suspend an account's services: its calls answer OperationDenied.Suspended (its keys stay)"
          : "resume an account's services",
      )
      .option('--product <product>', 'only this product: cdn or vod')
      .action(async (name: string, opts: StoreCliOptions & { product?: string }) => {
        if (opts.product !== undefined && opts.product !== 'cdn' && opts.product !== 'vod') throw new Error('--product is cdn or vod');
        await withStore(opts, async (s) => {
          const products: Product[] = opts.product ? [opts.product as Product] : ['cdn', 'vod'];
          const updated = await setAccountServices(s.store, name, state, products);
          process.stdout.write(`${updated.name}: cdn=${updated.services.cdn} vod=${updated.services.vod}\n`);
        });
      });
  }
}
