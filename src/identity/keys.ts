import { randomBytes, randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] % ALPHABET.length];
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
