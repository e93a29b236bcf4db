import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { EdgeNode } from '../../../src/edges/driver.js';
import { edgeConfig } from './edge-config.js';
import { chownTree, freePort, requireBinary, startDaemon, tailOf, untilReady, waitForPort } from './process.js';

/**
 * A real Squid 5.7 accelerator in front of the test origin: Debian's packaged squid.conf, whose
 * `include /etc/squid/conf.d/*.conf` line here includes the fragment `refreshd edge config squid`
 * prints (or nothing, with `debianDefault`: the forward proxy Debian ships), plus this harness's
 * paths (cache, logs, pid) and no HTCP/ICP ports. `squid -N` keeps the one process in the
 * foreground, so the test owns its PID.
 */
export interface SquidEdge {
  node: EdgeNode;
  port: number;
  dir: string;
  config: string;
  /** The refreshd fragment loaded ('' for the Debian default). */
  fragment: string;
  /** Tail of Squid's cache.log, for assertion messages. */
  log(): string;
  stop(): Promise<void>;
}

/** The arguments the harness gives `refreshd edge config squid`. */
export const squidConfigArgs = (originPort: number, port: number) =>
  ['--backend', `127.0.0.1:${originPort}`, '--listen', `127.0.0.1:${port}`, '--purger', '127.0.0.1'];

export async function startSquid(originPort: number, opts: { debianDefault?: boolean } = {}): Promise<SquidEdge> {
  const bin = requireBinary('squid');
  requireBinary('squid-purge'); // the driver's on-box pattern purge, tested against this instance
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-squid-'));
  try {
    return await launch(bin, dir, originPort, opts.debianDefault ?? false);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(bin: string, dir: string, originPort: number, debianDefault: boolean): Promise<SquidEdge> {
  mkdirSync(join(dir, 'cache'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const config = join(dir, 'squid.conf');
  const fragment = debianDefault ? '' : edgeConfig('squid', squidConfigArgs(originPort, port));
  writeFileSync(join(dir, 'refreshd.conf'), fragment);
  const packaged = readFileSync('/etc/squid/squid.conf', 'utf8')
    .replace(/^include \/etc\/squid\/conf\.d\/\*\.conf$/m, debianDefault ? '' : `include ${dir}/refreshd.conf`)
    // The fragment brings its own accelerator port; the default keeps its forward-proxy port, moved.
    .replace(/^http_port 3128$/m, debianDefault ? `http_port 127.0.0.1:${port}` : '')
    .replace(/^coredump_dir .*$/m, '');
  // Squid takes no comments at the end of a line: keep every comment on its own line.
  writeFileSync(config, `${packaged}
# --- the test harness: its own paths, no UDP ports ---
htcp_port 0
icp_port 0
pinger_enable off
cache_mem 16 MB
cache_dir ufs ${dir}/cache 64 16 256
pid_filename ${dir}/squid.pid
access_log stdio:${dir}/logs/access.log squid
cache_log ${dir}/logs/cache.log
cache_store_log none
coredump_dir ${dir}
netdb_filename none
visible_hostname edge-squid
shutdown_lifetime 0 seconds
`);
  // Started as root, Squid drops to cache_effective_user 'proxy': it must own everything here.
  if (userInfo().uid === 0) chownTree(dir, 'proxy');
  const init = spawnSync(bin, ['-z', '-N', '-f', config], { encoding: 'utf8', timeout: 15_000 });
  if (init.status !== 0) throw new Error(`squid -z failed (${init.status}): ${init.stderr}${init.stdout}`);
  const daemon = startDaemon(bin, ['-N', '-f', config]);
  await untilReady(daemon, waitForPort(port, 15_000), 'squid', join(dir, 'logs/cache.log'), () => stopSquid(daemon.child));
  return {
    node: { id: 2, name: 'squid-test', driver: 'squid', address: `127.0.0.1:${port}`, options: {} },
    port,
    dir,
    config,
    fragment,
    log: () => tailOf(join(dir, 'logs/cache.log')),
    stop: async () => {
      await stopSquid(daemon.child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** SIGINT is Squid's immediate shutdown (~1.5 s); SIGTERM waits out shutdown_lifetime and more. */
function stopSquid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 4000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGINT');
  });
}
