import { spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { EdgeNode } from '../../../src/edges/driver.js';
import { chownTree, freePort, requireBinary, startDaemon, tailOf, untilReady, waitForPort } from './process.js';

/**
 * A real Apache Traffic Server 9.2 in front of the test origin, from the runroot layout and
 * records.config edits tested in research/edges.md §4/§9 (up_ats), with:
 * - two domains mapped to different origin paths (www.example.com → origin /, other.example.com →
 *   origin /other/), because ATS keys its cache on the remapped origin URL: this is how two Host
 *   headers get separate objects, and it exercises the driver's per-host originBase;
 * - regex_revalidate with a state file, which the driver reads to confirm a rule is loaded.
 * traffic_manager runs in the foreground (our child) and starts traffic_server; ~3 s to ready.
 */
export const OTHER_HOST = 'other.example.com';

export interface AtsEdge {
  /** A node with every option the driver's on-box regex_revalidate path needs. */
  node: EdgeNode;
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startAts(originPort: number): Promise<AtsEdge> {
  const bin = requireBinary('traffic_manager');
  requireBinary('traffic_ctl');
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-ats-'));
  try {
    return await launch(bin, dir, originPort);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(bin: string, dir: string, originPort: number): Promise<AtsEdge> {
  for (const sub of ['etc', 'cache', 'log', 'run', 'var']) mkdirSync(join(dir, sub));
  cpSync('/etc/trafficserver', join(dir, 'etc'), { recursive: true });
  const port = await freePort();
  const origin = `http://127.0.0.1:${originPort}`;
  const etc = (name: string) => join(dir, 'etc', name);
  const runroot = join(dir, 'runroot.yaml');
  writeFileSync(runroot, [
    'prefix: /usr', 'exec_prefix: /usr', 'bindir: /usr/bin', 'sbindir: /usr/sbin', `sysconfdir: ${dir}/etc`,
    `datadir: ${dir}/var`, 'includedir: /usr/include', 'libdir: /usr/lib/trafficserver',
    'libexecdir: /usr/lib/trafficserver/modules', `localstatedir: ${dir}/var`, `runtimedir: ${dir}/run`,
    `logdir: ${dir}/log`, `cachedir: ${dir}/cache`, '',
  ].join('\n'));
  const records = readFileSync(etc('records.config'), 'utf8')
    .replace(/^CONFIG proxy\.config\.http\.server_ports .*$/m, `CONFIG proxy.config.http.server_ports STRING ${port}:ip-in=127.0.0.1`)
    .replace(/^CONFIG proxy\.config\.http\.insert_response_via_str .*$/m, 'CONFIG proxy.config.http.insert_response_via_str INT 2')
    .replace(/^CONFIG proxy\.config\.exec_thread\.autoconfig .*$/m, 'CONFIG proxy.config.exec_thread.autoconfig INT 0')
    // Not root: there is no user to switch to; '#-1' keeps the current one (edges.md §4).
    .replace(/^CONFIG proxy\.config\.admin\.user_id .*$/m, (line) => (userInfo().uid === 0 ? line : 'CONFIG proxy.config.admin.user_id STRING #-1'));
  // wait_for_cache: do not accept requests before the cache is up (else the first ones bypass it).
  writeFileSync(etc('records.config'), `${records}\nCONFIG proxy.config.http.wait_for_cache INT 1\n`);
  writeFileSync(etc('storage.config'), `${dir}/cache 64M\n`);
  writeFileSync(etc('remap.config'), [
    `map http://www.example.com/ ${origin}/`,
    `map http://${OTHER_HOST}/ ${origin}/other/`,
    '',
  ].join('\n'));
  const rules = etc('regex_revalidate.config');
  const state = join(dir, 'var', 'regex_revalidate.state');
  writeFileSync(rules, '# <PCRE on the remapped (origin) URL> <rule expiry, epoch seconds> [MISS]\n');
  writeFileSync(etc('plugin.config'), `xdebug.so\nregex_revalidate.so -d -c ${rules} -l revalidate.log -f ${state}\n`);
  // traffic_manager and traffic_server drop to user 'trafficserver' (proxy.config.admin.user_id).
  if (userInfo().uid === 0) chownTree(dir, 'trafficserver');
  const daemon = startDaemon(bin, [], { ...process.env, TS_RUNROOT: runroot });
  // traffic_manager binds the port at once and hands it to traffic_server later: wait for an
  // HTTP answer (only-if-cached: 504, never reaches the origin), not just a TCP accept.
  await untilReady(daemon, waitForPort(port, 30_000).then(() => waitForHttp(port, 30_000)), 'traffic_manager', join(dir, 'log', 'diags.log'), () => stopAts(daemon.child, dir));
  return {
    node: {
      id: 3, name: 'ats-test', driver: 'ats', address: `127.0.0.1:${port}`,
      options: {
        originBase: { 'www.example.com': origin, [OTHER_HOST]: `${origin}/other` },
        regexRevalidateConfig: rules,
        regexRevalidateState: state,
        runroot,
      },
    },
    port,
    dir,
    log: () => tailOf(join(dir, 'log', 'diags.log')),
    stop: async () => {
      await stopAts(daemon.child, dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * SIGTERM to traffic_manager stops traffic_server too (~1 s). If the manager has to be killed,
 * traffic_server would be orphaned and keep the port: kill it by the PID in run/server.lock.
 */
async function stopAts(manager: ChildProcess, dir: string): Promise<void> {
  if (manager.exitCode === null && manager.signalCode === null) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => manager.kill('SIGKILL'), 8000);
      manager.once('exit', () => { clearTimeout(timer); resolve(); });
      manager.kill('SIGTERM');
    });
  }
  const server = serverPid(dir);
  if (server && alive(server)) {
    process.kill(server, 'SIGKILL');
  }
}

function serverPid(dir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, 'run', 'server.lock'), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function waitForHttp(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'www.example.com', 'cache-control': 'only-if-cached' }, timeout: 1000 });
      req.once('response', (res) => { res.resume(); resolve(); });
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', () => {
        if (Date.now() > deadline) reject(new Error(`traffic_server did not answer on ${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
      req.end();
    };
    attempt();
  });
}

/** A zombie counts as stopped: PID 1 on these VMs does not reap orphans (edges.md §1). */
function alive(pid: number): boolean {
  const ps = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  const stat = ps.stdout.trim();
  return ps.status === 0 && stat !== '' && !stat.startsWith('Z');
}
