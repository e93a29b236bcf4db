import { randomBytes, randomInt } from 'node:crypto';
import type { KeyRecord } from '../protocol/authenticate.js';
import type { Store } from '../store/port.js';
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

/**
 * Finds the key a request names and opens its secret, for authentication on every request.
 * The row is read each time, so a disabled or deleted key stops working at once, in every
 * process; only the decryption is cached, keyed by the sealed value itself (which changes
 * whenever the secret does), so the cache can never answer with a stale secret.
 */
export class KeyResolver {
  private readonly opened = new Map<string, string>();

  constructor(
    private readonly store: Pick<Store, 'identity'>,
    private readonly box: SecretBox,
    private readonly maxCached = 10_000,
  ) {}

  async find(accessKeyId: string): Promise<KeyRecord | undefined> {
    const k = await this.store.identity.findAccessKey(accessKeyId);
    if (!k) return undefined;
    const cacheKey = `${k.accessKeyId}\n${k.secretCipher}`;
    let secret = this.opened.get(cacheKey);
    if (secret === undefined) {
      secret = this.box.open(k.secretCipher, k.accessKeyId);
      if (this.opened.size >= this.maxCached) this.opened.clear();
      this.opened.set(cacheKey, secret);
    }
    return { accessKeyId: k.accessKeyId, secret, active: k.active, accountId: k.accountId, userName: k.userName ?? undefined };
  }
}
