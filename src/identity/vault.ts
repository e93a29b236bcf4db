import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/port.js';
import { LEGACY_PLAIN, SecretBox } from './secret-box.js';

export const MASTER_KEY_ENV = 'REFRESHD_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';
const CHECK_NAME = 'master_key_check';

export interface MasterKey {
  key: Buffer;
  /** Where it came from, for messages: the variable's name or the file's path. Never the key. */
  source: string;
}

/**
 * The 32-byte master key that seals AccessKey secrets: REFRESHD_MASTER_KEY (64 hex digits or
 * base64) when set, else `<dataDir>/master.key`, created with mode 0600 on first use. Every
 * process on one store must use the same key — for PostgreSQL across hosts, set the variable
 * (or copy the file); openVault refuses a key the store was not sealed with.
 */
export function loadMasterKey(env: NodeJS.ProcessEnv, dataDir: string): MasterKey {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { key: parseKey(fromEnv.trim(), MASTER_KEY_ENV), source: MASTER_KEY_ENV };
  const file = join(dataDir, MASTER_KEY_FILE);
  return { key: readKeyFile(file) ?? createKeyFile(dataDir, file), source: file };
}

function parseKey(text: string, source: string): Buffer {
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    if (key.length === 32) return key;
  }
  throw new Error(`${source} must hold a 32-byte key as 64 hex digits or base64 (e.g. \`openssl rand -hex 32\`)`);
}

function readKeyFile(file: string): Buffer | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``);
  }
  return parseKey(readFileSync(file, 'utf8').trim(), file);
}

/**
 * Written to a private temporary file and linked into place, so two processes starting on a
 * fresh data dir agree on one key: the second link fails and that process reads the winner's.
 */
function createKeyFile(dataDir: string, file: string): Buffer {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readKeyFile(file)!;
}

/**
 * Open the store's secrets: load the master key, make sure the store was sealed with it (the
 * first process records its check value), and seal any secret still kept in the clear from
 * before sealing existed.
 */
export async function openVault(store: Pick<Store, 'identity'>, env: NodeJS.ProcessEnv, dataDir: string): Promise<SecretBox> {
  const { key, source } = loadMasterKey(env, dataDir);
  const box = new SecretBox(key);
  const stored = await store.identity.ensureMeta(CHECK_NAME, box.checkValue());
  if (stored !== box.checkValue()) {
    throw new Error(
      `the store's AccessKey secrets are sealed with a different master key than ${source}; ` +
        `set ${MASTER_KEY_ENV} to the key used before (or use that data dir's ${MASTER_KEY_FILE})`,
    );
  }
  for (const k of await store.identity.listAccessKeys()) {
    if (k.secretCipher.startsWith(LEGACY_PLAIN)) {
      await store.identity.replaceSecretCipher(k.accessKeyId, k.secretCipher, box.seal(box.open(k.secretCipher, k.accessKeyId), k.accessKeyId));
    }
  }
  return box;
}
