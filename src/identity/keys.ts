import { randomBytes, randomInt } from 'node:crypto';
import type { KeyRecord } from '../protocol/authenticate.js';
import type { Account, Credential, Store } from '../store/port.js';
import type { SecretBox } from './secret-box.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % ALPHABET.length];
    }
  }
  return out;
}

/** AccessKey pairs shaped like Alibaba's: `LTAI` + 20 characters, and a 30-character secret. */
export function newAccessKeyPair(): { accessKeyId: string; secret: string } {
  return { accessKeyId: 'LTAI' + randomString(20), secret: randomString(30) };
}

/** A 16-digit account uid, as Alibaba account ids look. */
export function newAccountUid(): string {
  return String(randomInt(1, 10)) + String(randomInt(0, 1e9)).padStart(9, '0') + String(randomInt(0, 1e6)).padStart(6, '0');
}

/** Create a key for an account's root (userName null) or one of its RAM users; the secret is returned this once. */
export async function createKey(
  store: Pick<Store, 'identity'>, box: SecretBox, accountId: number, userName: string | null, now = Date.now(), pair = newAccessKeyPair(),
): Promise<{ accessKeyId: string; secret: string }> {
  await store.identity.createAccessKey({
    accessKeyId: pair.accessKeyId, secretCipher: box.seal(pair.secret, pair.accessKeyId), accountId, userName, active: true, createdAt: now,
  });
  return pair;
}

/** A key as authentication uses it, with its account (undefined only if the account row is gone). */
export interface ResolvedKey extends KeyRecord {
  account: Account | undefined;
}

/**
 * Finds the key a request names, with its account, and opens its secret, for authentication on
 * every request. The store reads both in one statement and keeps them for at most
 * CREDENTIAL_TTL_MS (store/credential-cache.ts), so a key disabled or deleted in another process
 * stops working within that time, in this process at once. Opened secrets are cached by the
 * sealed value itself (which changes whenever the secret does), so the cache can never answer
 * with a stale secret; the record made from a cached credential is reused while it is cached.
 */
export class KeyResolver {
  private readonly opened = new Map<string, string>();
  private readonly resolved = new WeakMap<Credential, ResolvedKey>();

  constructor(
    private readonly store: Pick<Store, 'identity'>,
    private readonly box: SecretBox,
    private readonly maxCached = 10_000,
  ) {}

  async find(accessKeyId: string): Promise<ResolvedKey | undefined> {
    const credential = await this.store.identity.findCredential(accessKeyId);
    if (!credential) return undefined;
    let key = this.resolved.get(credential);
    if (key === undefined) {
      const k = credential.key;
      key = { accessKeyId: k.accessKeyId, secret: this.open(k.accessKeyId, k.secretCipher), active: k.active, accountId: k.accountId, userName: k.userName ?? undefined, account: credential.account };
      this.resolved.set(credential, key);
    }
    return key;
  }

  private open(accessKeyId: string, secretCipher: string): string {
    const cacheKey = `${accessKeyId}\n${secretCipher}`;
    let secret = this.opened.get(cacheKey);
    if (secret === undefined) {
      secret = this.box.open(secretCipher, accessKeyId);
      if (this.opened.size >= this.maxCached) this.opened.clear();
      this.opened.set(cacheKey, secret);
    }
    return secret;
  }
}
