import type { Command } from 'commander';
import { accountNamed } from '../identity/admin.js';
import type { AuditEntry } from '../store/port.js';
import { storeOptions } from './options.js';
import { printJson, printRows, withStore, type StoreCliOptions } from './store-session.js';

const RELATIVE = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since 2026-11-20T00:00:00Z` or `--since 2h` (that long ago). */
export function parseSince(value: string, now = Date.now()): number {
  const rel = RELATIVE.exec(value.trim());
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`"${value}" is not a time: use ISO 8601 (2026-11-20T08:00:00Z) or an age (30m, 2h, 7d)`);
  return ms;
}

/** `refreshd audit`: every API call, newest first, kept for auditRetentionDays. */
export function registerAuditCommands(program: Command): void {
  storeOptions(program.command('audit'))
    .description('show the audit log: every API call with who made it, from where, and what came of it (newest first)')
    .option('--account <name>', "only this account's calls")
    .option('--action <name>', 'only this action, e.g. RefreshObjectCaches')
    .option('--since <time>', 'only calls at or after this time (ISO 8601, or an age such as 2h)')
    .option('--until <time>', 'only calls before this time')
    .option('--limit <n>', 'at most this many records', '100')
    .option('--json', 'print JSON (with parameters)')
    .action(async (opts: StoreCliOptions & { account?: string; action?: string; since?: string; until?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new Error('--limit is a whole number from 1 to 100000');
      await withStore(opts, async (s) => {
        const account = opts.account === undefined ? undefined : await accountNamed(s.store, opts.account);
        const entries = await s.store.audit.queryAudit({
          accountId: account?.id,
          action: opts.action,
          since: opts.since === undefined ? undefined : parseSince(opts.since),
          until: opts.until === undefined ? undefined : parseSince(opts.until),
          limit,
        });
        const names = new Map((await s.store.identity.listAccounts()).map((a) => [a.id, a.name]));
        const rows = entries.map((e) => view(e, names));
        if (opts.json) printJson(rows);
        else printRows(rows.map((r) => [r.time, r.account ?? '-', r.user ?? '-', r.accessKeyId ?? '-', r.sourceIp, r.action ?? '-', r.status, r.code ?? 'OK', r.requestId]));
      });
    });
}

function view(e: AuditEntry, names: Map<number, string>) {
  return {
    time: new Date(e.at).toISOString(),
    account: e.accountId === null ? null : (names.get(e.accountId) ?? String(e.accountId)),
    user: e.userName,
    accessKeyId: e.accessKeyId,
    sourceIp: e.sourceIp,
    product: e.product,
    action: e.action,
    params: JSON.parse(e.params) as Record<string, string>,
    status: e.status,
    code: e.code,
    requestId: e.requestId,
  };
}
