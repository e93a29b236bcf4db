import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const SEALED = 'gcm1:';
/** Rows migrated from before secrets were sealed (store migrations); vault.ts seals them. */
export const LEGACY_PLAIN = 'plain:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AccessKey secrets at rest: AES-256-GCM under the 32-byte master key, one random 96-bit IV per
 * secret, the AccessKeyId as additional authenticated data (a sealed secret copied onto another
 * key's row does not open). Stored as `gcm1:` + base64(iv ‖ tag ‖ ciphertext).
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes');
  }

  seal(secret: string, accessKeyId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return SEALED + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The secret of a stored key; throws when the value was not sealed with this key for this id. */
  open(stored: string, accessKeyId: string): string {
    if (stored.startsWith(LEGACY_PLAIN)) return stored.slice(LEGACY_PLAIN.length);
    if (!stored.startsWith(SEALED)) throw new Error(`AccessKey ${accessKeyId}: unknown secret format`);
    const raw = Buffer.from(stored.slice(SEALED.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error(`AccessKey ${accessKeyId}: sealed secret is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`AccessKey ${accessKeyId}: the sealed secret does not open with this master key`);
    }
  }

  /**
   * A value that names the master key without revealing it, kept in the store so a process
   * holding a different key (a fresh key file, a wrong REFRESHD_MASTER_KEY) refuses to start
   * instead of failing every signature.
   */
  checkValue(): string {
    return createHmac('sha256', this.key).update('refreshd master key check v1').digest('hex').slice(0, 32);
  }
}
