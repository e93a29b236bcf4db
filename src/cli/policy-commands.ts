import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addPolicy, attachPolicy, deletePolicy, detachPolicy, policyNamed, userNamed } from '../identity/admin.js';
import { storeOptions } from './options.js';
import { accountOption, printJson, printRows, withStore, type StoreCliOptions } from './store-session.js';

type Opts = StoreCliOptions & { account?: string };

/** `refreshd policy create|attach|detach|list|show|delete`: RAM-style policies for an account's users. */
export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description('manage RAM-style policies: {"Version":"1","Statement":[{"Effect":"Allow|Deny","Action":"cdn:*","Resource":"*"}]}');

  storeOptions(policy.command('create <name>'))
    .description('create a policy from a JSON document (checked before it is stored)')
    .requiredOption('--file <file>', 'the policy document, or - for stdin')
    .option(...accountOption)
    .option('--description <text>', 'what the policy is for', '')
    .action(async (name: string, opts: Opts & { file: string; description: string }) => {
      const document = readFileSync(opts.file === '-' ? 0 : opts.file, 'utf8');
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        await addPolicy(s.store, account, name, document, opts.description);
        process.stdout.write(`created policy ${name} in account ${account.name}\n`);
      });
    });

  for (const verb of ['attach', 'detach'] as const) {
    storeOptions(policy.command(`${verb} <name>`))
      .description(verb === 'attach' ? 'attach a policy to a RAM user (effective on its next call)' : 'detach a policy from a RAM user')
      .requiredOption('--user <name>', 'the RAM user')
      .option(...accountOption)
      .action(async (name: string, opts: Opts & { user: string }) => {
        await withStore(opts, async (s) => {
          const account = await s.account(opts.account);
          if (verb === 'attach') await attachPolicy(s.store, account, name, opts.user);
          else await detachPolicy(s.store, account, name, opts.user);
          process.stdout.write(`${verb === 'attach' ? 'attached' : 'detached'} policy ${name} ${verb === 'attach' ? 'to' : 'from'} ${opts.user}\n`);
        });
      });
  }

  storeOptions(policy.command('list'))
    .description("list an account's policies and the users they are attached to (or one user's policies)")
    .option(...accountOption)
    .option('--user <name>', "only this user's policies")
    .option('--json', 'print JSON')
    .action(async (opts: Opts & { user?: string; json?: boolean }) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        if (opts.user !== undefined) await userNamed(s.store, account, opts.user);
        const [policies, attachments] = await Promise.all([s.store.identity.listPolicies(account.id), s.store.identity.listAttachments(account.id)]);
        const rows = policies
          .map((p) => ({
            name: p.name,
            description: p.description,
            users: attachments.filter((a) => a.policyName === p.name).map((a) => a.userName),
            document: JSON.parse(p.document) as unknown,
          }))
          .filter((r) => opts.user === undefined || r.users.includes(opts.user));
        if (opts.json) printJson(rows);
        else printRows(rows.map((r) => [r.name, r.description || '-', `users=${r.users.join(',') || '-'}`]));
      });
    });

  storeOptions(policy.command('show <name>'))
    .description('print a policy document')
    .option(...accountOption)
    .action(async (name: string, opts: Opts) => {
      await withStore(opts, async (s) => {
        const found = await policyNamed(s.store, await s.account(opts.account), name);
        printJson(JSON.parse(found.document));
      });
    });

  storeOptions(policy.command('delete <name>'))
    .description('delete a policy (detach it from every user first)')
    .option(...accountOption)
    .action(async (name: string, opts: Opts) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        await deletePolicy(s.store, account, name);
        process.stdout.write(`deleted policy ${name} from account ${account.name}\n`);
      });
    });
}
