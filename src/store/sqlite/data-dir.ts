import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded store's directory holds every tenant's paths, the audit log and the sealed keys:
 * only the user refreshd runs as may read it. The directory is created 0700 and the database
 * file 0600 before SQLite first opens it (SQLite gives its -wal and -shm files the database
 * file's mode). A directory or file that others can read, left by an older version or another
 * tool, is tightened at start; each change is returned so the caller can log it.
 */
// master.key is not among them: the vault refuses a key file others could read (they may have copied it).
const FILES = ['refreshd.db', 'refreshd.db-wal', 'refreshd.db-shm'];

export function secureDataDir(dir: string): string[] {
  const changed: string[] = [];
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (tighten(dir, 0o700)) changed.push(dir);
  const db = join(dir, 'refreshd.db');
  if (!existsSync(db)) closeSync(openSync(db, 'a', 0o600));
  for (const name of FILES) {
    const file = join(dir, name);
    if (existsSync(file) && tighten(file, 0o600)) changed.push(file);
  }
  return changed;
}

/** Clear the group and other bits beyond `mode`; true when something changed. */
function tighten(path: string, mode: number): boolean {
  const current = statSync(path).mode & 0o777;
  if ((current & ~mode) === 0) return false;
  chmodSync(path, current & mode);
  return true;
}
