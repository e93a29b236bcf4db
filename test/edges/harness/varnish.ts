import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { edgeConfig } from './edge-config.js';
import { freePort, requireBinary, startDaemon, stopProcess, waitForPort } from './process.js';

/**
 * A real varnishd with the VCL `refreshd edge config varnish` prints (or, for tests of broken
 * setups, a VCL given instead) in front of a test origin, in a temp dir, on free ports. `-n` must be absolute; `-j none` keeps varnishd from switching to the
 * varnish/vcache users, who could not read the 0700 temp dir (as root) and do not exist (as others).
 */
export interface Varnish {
  /** `127.0.0.1:PORT`, what an EdgeNode's address holds. */
  address: string;
  port: number;
  /** The workdir (`-n`), for varnishadm. */
  dir: string;
  /** The VCL loaded. */
  vcl: string;
  /** Everything varnishd printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Run-time parameters (`-p name=value`), e.g. `{ first_byte_timeout: '1' }`. */
export type VarnishParams = Record<string, string>;

/** The arguments the harness gives `refreshd edge config varnish` for an origin on this port. */
export const varnishConfigArgs = (originPort: number) => ['--backend', `127.0.0.1:${originPort}`, '--purger', '127.0.0.1'];

/** `vcl` replaces refreshd's VCL (tests of broken setups); `listenPort` picks the client port. */
export async function startVarnish(originPort: number, params: VarnishParams = {}, vcl = edgeConfig('varnish', varnishConfigArgs(originPort)), listenPort?: number): Promise<Varnish> {
  const varnishd = requireBinary('varnishd');
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-varnish-'));
  writeFileSync(join(dir, 'edge.vcl'), vcl);
  writeFileSync(join(dir, 'secret'), randomBytes(16).toString('hex'), { mode: 0o600 });
  const [port, adminPort] = [listenPort ?? (await freePort()), await freePort()];
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
    await Promise.race([waitForPort(port, 30_000).then(() => ready(port, probes(vcl))), exited]);
  } catch (err) {
    await stop();
    throw err;
  }
  exited.catch(() => {}); // a later exit (stop) is not an error
  return { address: `127.0.0.1:${port}`, port, dir, vcl, output, stop };
}

/** A VCL without refreshd's probe (the distribution's default) is ready once it answers anything. */
const probes = (vcl: string) => vcl.includes('X-Cache-Probe');

/** The manager may listen before the child serves: wait for a probe (never reaches the origin). */
async function ready(port: number, probe: boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await request(`http://127.0.0.1:${port}/__ready`, { headers: { 'x-cache-probe': '1' } });
      await res.body.dump();
      if (res.statusCode === 404 || !probe) return;
    } catch {
      // not accepting yet
    }
    if (Date.now() > deadline) throw new Error(`varnish on ${port} did not answer a probe within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
