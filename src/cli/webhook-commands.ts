import type { Command } from 'commander';
import { deliveriesOf, removeWebhook, setWebhook, webhookOf } from '../webhooks/admin.js';
import { storeOptions } from './options.js';
import { accountOption, printJson, printRows, withStore, type StoreCliOptions } from './store-session.js';

type Opts = StoreCliOptions & { account?: string; json?: boolean };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `refreshd webhook set|show|remove|deliveries`: one signed webhook per account for TaskFinished events. */
export function registerWebhookCommands(program: Command): void {
  const webhook = program.command('webhook').description("an account's webhook: a signed POST when each of its tasks finishes");

  storeOptions(webhook.command('set <url>'))
    .description('set (or replace) the webhook; prints its new signing secret once')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (url: string, opts: Opts) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        const hook = await setWebhook(s.store, await s.vault(), account, url);
        if (opts.json) printJson({ account: account.name, url: hook.url, secret: hook.secret });
        else {
          process.stdout.write(
            `webhook of account ${account.name} set to ${hook.url}; its signing secret is shown this once:\n` +
              `  Secret: ${hook.secret}\n` +
              'Verify x-refreshd-signature (t=…,v1=…) as HMAC-SHA256 of "<t>.<body>" with this secret (README, Webhooks).\n',
          );
        }
      });
    });

  storeOptions(webhook.command('show'))
    .description('show the webhook URL (never its secret)')
    .option(...accountOption)
    .option('--json', 'print JSON')
    .action(async (opts: Opts) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        const hook = await webhookOf(s.store, account);
        if (opts.json) printJson({ account: account.name, url: hook.url, createdAt: iso(hook.createdAt) });
        else printRows([[account.name, hook.url, `since ${iso(hook.createdAt)}`]]);
      });
    });

  storeOptions(webhook.command('remove'))
    .description('remove the webhook; events still queued for it are failed, not sent')
    .option(...accountOption)
    .action(async (opts: Opts) => {
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        await removeWebhook(s.store, account);
        process.stdout.write(`webhook of account ${account.name} removed\n`);
      });
    });

  storeOptions(webhook.command('deliveries'))
    .description('list webhook deliveries, newest first: state, attempts, last error')
    .option(...accountOption)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (opts: Opts & { limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error('--limit is a whole number from 1 to 10000');
      await withStore(opts, async (s) => {
        const account = await s.account(opts.account);
        const rows = (await deliveriesOf(s.store, account, limit)).map((d) => ({
          id: d.id, event: d.event, taskId: d.taskId, product: d.product, state: d.state, attempts: d.attempts,
          createdAt: iso(d.createdAt), nextRunAt: d.state === 'pending' ? iso(d.nextRunAt) : null, deliveredAt: iso(d.deliveredAt), lastError: d.lastError,
        }));
        if (opts.json) printJson(rows);
        else printRows(rows.map((r) => [r.id, r.event, r.taskId, r.state, `attempts=${r.attempts}`, r.createdAt ?? '-', r.deliveredAt ?? r.nextRunAt ?? '-', r.lastError ?? '']));
      });
    });
}
