import type { Account, TaskStore } from '../store/port.js';
import { newAccessKeyPair, newAccountUid } from './keys.js';

export const ROOT_ACCOUNT = 'root';

export interface RootBootstrap {
  account: Account;
  /** Set only when a key pair was created now: the one time its secret is shown. */
  created?: { accessKeyId: string; secret: string };
}

/**
 * Make sure the root account exists with at least one AccessKey. With REFRESHD_ACCESS_KEY_ID and
 * REFRESHD_ACCESS_KEY_SECRET set, that pair is the root key (added if missing); otherwise a new
 * pair is generated the first time and returned so the caller can print it once.
 */
export async function ensureRootAccount(store: TaskStore, env: NodeJS.ProcessEnv, now = Date.now()): Promise<RootBootstrap> {
  const account = (await store.findAccountByName(ROOT_ACCOUNT)) ?? (await store.createAccount({ uid: newAccountUid(), name: ROOT_ACCOUNT, createdAt: now }));
  const fixedId = env.REFRESHD_ACCESS_KEY_ID;
  const fixedSecret = env.REFRESHD_ACCESS_KEY_SECRET;
  if (fixedId || fixedSecret) {
    if (!fixedId || !fixedSecret) throw new Error('set both REFRESHD_ACCESS_KEY_ID and REFRESHD_ACCESS_KEY_SECRET, or neither');
    const existing = await store.findAccessKey(fixedId);
    if (existing && (existing.accountId !== account.id || existing.secret !== fixedSecret)) {
      throw new Error(`AccessKey ${fixedId} already exists with another secret or owner`);
    }
    if (!existing) await store.createAccessKey({ accessKeyId: fixedId, secret: fixedSecret, accountId: account.id, userName: null, active: true, createdAt: now });
    return { account };
  }
  const keys = await store.listAccessKeys(account.id);
  if (keys.some((k) => k.userName === null)) return { account };
  const pair = newAccessKeyPair();
  await store.createAccessKey({ accessKeyId: pair.accessKeyId, secret: pair.secret, accountId: account.id, userName: null, active: true, createdAt: now });
  return { account, created: pair };
}
