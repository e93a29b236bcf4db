import type { Account, Store } from '../store/port.js';
import { createKey, newAccountUid } from './keys.js';
import type { SecretBox } from './secret-box.js';

export const ROOT_ACCOUNT = 'root';

export interface RootBootstrap {
  account: Account;
  /** Set only when a key pair was created now: the one time its secret is shown. */
  created?: { accessKeyId: string; secret: string };
}

/**
 * Make sure the root account exists with at least one AccessKey. With REFRESHD_ACCESS_KEY_ID and
 * REFRESHD_ACCESS_KEY_SECRET set, that pair is the root key (added, sealed, if missing);
 * otherwise a new pair is generated the first time and returned so the caller can print it once.
 * `vault` is asked for only when a secret has to be sealed or compared.
 */
export async function ensureRootAccount(
  store: Pick<Store, 'identity'>, env: NodeJS.ProcessEnv, vault: () => Promise<SecretBox>, now = Date.now(),
): Promise<RootBootstrap> {
  const account = (await store.identity.findAccountByName(ROOT_ACCOUNT)) ?? (await store.identity.createAccount({ uid: newAccountUid(), name: ROOT_ACCOUNT, createdAt: now }));
  const fixedId = env.REFRESHD_ACCESS_KEY_ID;
  const fixedSecret = env.REFRESHD_ACCESS_KEY_SECRET;
  if (fixedId || fixedSecret) {
    if (!fixedId || !fixedSecret) throw new Error('set both REFRESHD_ACCESS_KEY_ID and REFRESHD_ACCESS_KEY_SECRET, or neither');
    const existing = await store.identity.findAccessKey(fixedId);
    const box = await vault();
    if (existing && (existing.accountId !== account.id || existing.userName !== null || box.open(existing.secretCipher, fixedId) !== fixedSecret)) {
      throw new Error(`AccessKey ${fixedId} already exists with another secret or owner`);
    }
    if (!existing) await createKey(store, box, account.id, null, now, { accessKeyId: fixedId, secret: fixedSecret });
    return { account };
  }
  const keys = await store.identity.listAccessKeys(account.id);
  if (keys.some((k) => k.userName === null)) return { account };
  return { account, created: await createKey(store, await vault(), account.id, null, now) };
}
