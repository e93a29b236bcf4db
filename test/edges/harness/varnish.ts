import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { varnishVcl } from '../../../src/edges/varnish.js';
import { freePort, requireBinary, startDaemon, stopProcess, waitForPort } from './process.js';

/**
 * A real varnishd (edges.md §2) with the driver's reference VCL in front of a test origin, in a
 * temp dir, on free ports. `-n` must be absolute; `-j none` keeps varnishd from switching to the
 * varnish/vcache users, who could not read the 0700 temp dir (as root) and do not exist (as others).
 */
export interface Varnish {
  /** `127.0.0.1:PORT`, what an EdgeNode's address holds. */
  address: string;
  port: number;
  /** The workdir (`-n`), for varnishadm. */
  dir: string;
  /** Everything varnishd printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Run-time parameters (`-p name=value`), e.g. `{ first_byte_timeout: '1' }`. */
export type VarnishParams = Record<string, string>;

export async function startVarnish(originPort: number, params: VarnishParams = {}, vcl: { tagHeader?: string } = {}): Promise<Varnish> {
  const varnishd = requireBinary('varnishd');
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-varnish-'));
  writeFileSync(join(dir, 'edge.vcl'), varnishVcl('127.0.0.1', originPort, vcl));
  writeFileSync(join(dir, 'secret'), randomBytes(16).toString('hex'), { mode: 0o600 });
  const [port, adminPort] = [await freePort(), await freePort()];
  const args = [
    '-F', '-j', 'none',
    '-a', `127.0.0.1:${port}`, '-T', `127.0.0.1:${adminPort}`, '-S', join(dir, 'secret'),
    '-f', join(dir, 'edge.vcl'), '-n', join(dir, 'inst'), '-s', 'malloc,64m',
    ...Object.entries(params).flatMap(([name, value]) => ['-p', `${name}=${value}`]),
  ];
  const { child, output } = startDaemon(varnishd, args);
  const stop = async () => {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
  // A bad VCL makes varnishd exit at once: fail with its compiler output, not a port timeout.
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`varnishd exited (${code}):\n${output()}`))));
  try {
    await Promise.race([waitForPort(port, 30_000).then(() => ready(port)), exited]);
  } catch (err) {
    await stop();
    throw err;
  }
  exited.catch(() => {}); // a later exit (stop) is not an error
  return { address: `127.0.0.1:${port}`, port, dir, output, stop };
}

/** The manager may listen before the child serves: wait for a probe (never reaches the origin). */
async function ready(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await request(`http://127.0.0.1:${port}/__ready`, { headers: { 'x-cache-probe': '1' } });
      await res.body.dump();
      if (res.statusCode === 404) return;
    } catch {
      // not accepting yet
    }
    if (Date.now() > deadline) throw new Error(`varnish on ${port} did not answer a probe within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
