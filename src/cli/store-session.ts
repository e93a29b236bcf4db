import { openStore } from '../app.js';
import type { Config } from '../config/config.js';
import { accountNamed } from '../identity/admin.js';
import { ensureRootAccount, ROOT_ACCOUNT } from '../identity/root-account.js';
import type { SecretBox } from '../identity/secret-box.js';
import { openVault } from '../identity/vault.js';
import type { Account, Store } from '../store/port.js';
import { configFrom } from './options.js';

export interface StoreCliOptions {
  data?: string;
  config?: string;
  store?: string;
}

/** What an admin command works with: the store a server uses, and its master key on demand. */
export interface Session {
  store: Store;
  config: Config;
  /** The master key (opened once, only by commands that seal or compare a secret). */
  vault(): Promise<SecretBox>;
  /** An account by name; `root` is created (printing its first key once) if this store has none yet. */
  account(name?: string): Promise<Account>;
}

/** Open the store named by the common options, run `fn`, close the store whatever happens. */
export async function withStore<T>(opts: StoreCliOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  const config = configFrom(opts);
  const store = await openStore(config);
  let box: Promise<SecretBox> | undefined;
  const vault = () => (box ??= openVault(store, process.env, config.dataDir));
  const session: Session = {
    store,
    config,
    vault,
    account: async (name = ROOT_ACCOUNT) => {
      if (name !== ROOT_ACCOUNT) return accountNamed(store, name);
      const { account, created } = await ensureRootAccount(store, process.env, vault);
      if (created) printNewKey(`created the root account (uid ${account.uid})`, created);
      return account;
    },
  };
  try {
    return await fn(session);
  } finally {
    await store.close();
  }
}

/** The one time a secret is ever shown. */
export function printNewKey(title: string, key: { accessKeyId: string; secret: string }): void {
  process.stdout.write(
    `${title}; its AccessKey pair is shown this once:\n` + `  AccessKeyId:     ${key.accessKeyId}\n  AccessKeySecret: ${key.secret}\n`,
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Rows as tab-separated lines (as `domain list` and `node list` print). */
export function printRows(rows: (string | number)[][]): void {
  for (const r of rows) process.stdout.write(r.join('\t') + '\n');
}

export const accountOption = ['--account <name>', 'account (default: root)'] as const;
