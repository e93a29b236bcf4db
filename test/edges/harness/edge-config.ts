import { spawnSync } from 'node:child_process';
import { BIN } from '../../helpers/admin-cli.js';

/**
 * The configuration a cache needs, exactly as `refreshd edge config KIND ARGS…` prints it: every
 * harness loads this output (and nothing hand-written in its place) into the real server, so the
 * tests prove the shipped configs. test/edges/config.test.ts checks the files on disk match it.
 */
export function edgeConfig(kind: 'varnish' | 'nginx' | 'ats' | 'squid', args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, 'edge', 'config', kind, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`refreshd edge config ${kind} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
