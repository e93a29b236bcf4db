import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The real `refreshd` command on a test server's data dir: run it, expect success, expect failure. */
export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'refreshd.js');

export function adminCli(dataDir: () => string) {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--data', dataDir()], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const ok = (...args: string[]): string => {
    const r = cli(...args);
    assert.equal(r.code, 0, `refreshd ${args.join(' ')}: ${r.err}`);
    return r.out;
  };
  const fails = (pattern: RegExp, ...args: string[]): void => {
    const r = cli(...args);
    assert.notEqual(r.code, 0, `refreshd ${args.join(' ')} should fail`);
    assert.match(r.err, pattern);
  };
  return { cli, ok, fails };
}
