import type { Command } from 'commander';
import { addKey, deleteKey, setKeyActive, userNamed } from '../identity/admin.js';
import type { Account } from '../store/port.js';
import { storeOptions } from './options.js';
import { accountOption, printJson, printNewKey, printRows, withStore, type Session, type StoreCliOptions } from './store-session.js';

type Opts = StoreCliOptions & { account?: string; user?: string };

/** `refreshd key create|list|disable|enable|delete`: AccessKeys of an account's root or of its RAM users. */
export function registerKeyCommands(program: Command): void {
  const key = program.command('key').description('manage AccessKeys (secrets are shown once, at creation, and stored sealed)');

  storeOptions(key.command('create'))
    .description('create an AccessKey for the account (root) or for one of its RAM users')
    .option(...accountOption)
    .option('--user <name>', 'for this RAM user instead of the account root')
    .option('--json', 'print JSON')
    .action(async (opts: Opts & { json?: boolean }) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        const created = await addKey(s.store, await s.vault(), account, opts.user);
        const owner = opts.user ? `user ${opts.user} of account ${account.name}` : `account ${account.name}`;
        if (opts.json) printJson({ account: account.name, user: opts.user ?? null, accessKeyId: created.accessKeyId, accessKeySecret: created.secret });
        else printNewKey(`created an AccessKey for ${owner}`, created);
      });
    });

  storeOptions(key.command('list'))
    .description('list AccessKeys (never their secrets): the account root and its users, or one user')
    .option(...accountOption)
    .option('--user <name>', "only this RAM user's keys")
    .option('--json', 'print JSON')
    .action(async (opts: Opts & { json?: boolean }) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        if (opts.user !== undefined) await userNamed(s.store, account, opts.user);
        const keys = (await s.store.identity.listAccessKeys(account.id)).filter((k) => opts.user === undefined || k.userName === opts.user);
        const rows = keys.map((k) => ({
          accessKeyId: k.accessKeyId, account: account.name, user: k.userName, status: k.active ? 'Active' : 'Inactive', createdAt: new Date(k.createdAt).toISOString(),
        }));
        if (opts.json) printJson(rows);
        else printRows(rows.map((r) => [r.accessKeyId, r.user === null ? '(root)' : `user=${r.user}`, r.status, r.createdAt]));
      });
    });

  const change = (verb: string, describe: string, run: (s: Session, id: string, account?: Account) => Promise<void>, done: string) =>
    storeOptions(key.command(`${verb} <accessKeyId>`))
      .description(describe)
      .option('--account <name>', 'refuse unless the key belongs to this account')
      .action(async (id: string, opts: Opts) => {
        await withStore(opts, async (s) => {
          const account = opts.account === undefined ? undefined : await s.account(opts.account);
          await run(s, id, account);
          process.stdout.write(`${id} ${done}\n`);
        });
      });
  change('disable', 'disable a key: its calls answer InvalidAccessKeyId.Inactive at once', (s, id, a) => setKeyActive(s.store, id, false, a), 'is disabled');
  change('enable', 'enable a disabled key', (s, id, a) => setKeyActive(s.store, id, true, a), 'is enabled');
  change('delete', 'delete a key for good: its calls answer InvalidAccessKeyId.NotFound', (s, id, a) => deleteKey(s.store, id, a), 'is deleted');
}
