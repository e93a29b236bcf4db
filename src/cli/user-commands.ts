import type { Command } from 'commander';
import { addUser, removeUser } from '../identity/admin.js';
import { storeOptions } from './options.js';
import { accountOption, printJson, printRows, withStore, type StoreCliOptions } from './store-session.js';

type Opts = StoreCliOptions & { account?: string };

/** `refreshd user add|list|remove`: RAM users, principals inside an account with their own keys and policies. */
export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage RAM users: principals inside an account, allowed only what their policies allow');

  storeOptions(user.command('add <name>'))
    .description('create a RAM user (it can do nothing until a policy is attached; give it a key with `key create --user`)')
    .option(...accountOption)
    .option('--display-name <text>', 'display name', '')
    .action(async (name: string, opts: Opts & { displayName: string }) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        await addUser(s.store, account, name, opts.displayName);
        process.stdout.write(`added user ${name} to account ${account.name}\n`);
      });
    });

  storeOptions(user.command('list'))
    .description("list an account's RAM users with their policies and keys")
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (opts: Opts & { json?: boolean }) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        const [users, attachments, keys] = await Promise.all([
          s.store.identity.listUsers(account.id), s.store.identity.listAttachments(account.id), s.store.identity.listAccessKeys(account.id),
        ]);
        const rows = users.map((u) => ({
          name: u.name,
          displayName: u.displayName,
          policies: attachments.filter((a) => a.userName === u.name).map((a) => a.policyName),
          accessKeys: keys.filter((k) => k.userName === u.name).map((k) => ({ accessKeyId: k.accessKeyId, active: k.active })),
          createdAt: new Date(u.createdAt).toISOString(),
        }));
        if (opts.json) printJson(rows);
        else printRows(rows.map((r) => [r.name, r.displayName || '-', `policies=${r.policies.join(',') || '-'}`, `keys=${r.accessKeys.map((k) => k.accessKeyId).join(',') || '-'}`]));
      });
    });

  storeOptions(user.command('remove <name>'))
    .description('remove a RAM user with its AccessKeys and policy attachments')
    .option(...accountOption)
    .action(async (name: string, opts: Opts) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        await removeUser(s.store, account, name);
        process.stdout.write(`removed user ${name} from account ${account.name}\n`);
      });
    });
}
