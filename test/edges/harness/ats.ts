import { spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { EdgeNode } from '../../../src/edges/driver.js';
import { splitConfigFiles } from '../../../src/edges/config/options.js';
import { edgeConfig } from './edge-config.js';
import { chownTree, freePort, requireBinary, startDaemon, tailOf, untilReady, waitForPort } from './process.js';

/**
 * A real Apache Traffic Server 9.2 in front of the test origin, in a runroot of its own: Debian's
 * packaged configuration with the files `refreshd edge config ats` prints applied to it (records
 * lines replace their namesakes; the other files are written as printed), or, with
 * `debianDefault`, the packaged configuration alone on our port. The harness maps two domains to
 * different origin paths (www.example.com → origin /, other.example.com → origin /other/):
 * ATS keys its cache on the remapped origin URL, so that is how two Host headers get separate
 * objects, and it exercises the driver's per-host originBase.
 * traffic_manager runs in the foreground (our child) and starts traffic_server; ~3 s to ready.
 */
export const OTHER_HOST = 'other.example.com';

export interface AtsEdge {
  /** A node with every option the driver's on-box regex_revalidate path needs. */
  node: EdgeNode;
  port: number;
  dir: string;
  /** What `refreshd edge config ats` printed ('' for the Debian default). */
  config: string;
  log(): string;
  stop(): Promise<void>;
}

/** The arguments the harness gives `refreshd edge config ats`. */
export const atsConfigArgs = (originPort: number, port: number, dir: string) => [
  '--backend', `127.0.0.1:${originPort}`, '--listen', `127.0.0.1:${port}`, '--dir', join(dir, 'var'),
  '--domain', 'www.example.com', '--domain', `${OTHER_HOST}=http://127.0.0.1:${originPort}/other`, '--purger', '127.0.0.1',
];

export async function startAts(originPort: number, opts: { debianDefault?: boolean } = {}): Promise<AtsEdge> {
  const bin = requireBinary('traffic_manager');
  requireBinary('traffic_ctl');
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-ats-'));
  try {
    return await launch(bin, dir, originPort, opts.debianDefault ?? false);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(bin: string, dir: string, originPort: number, debianDefault: boolean): Promise<AtsEdge> {
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
  const config = debianDefault ? '' : edgeConfig('ats', atsConfigArgs(originPort, port, dir));
  const files = splitConfigFiles(config);
  // The harness's own settings first (the printed lines then replace or add to them).
  let records = setRecord(readFileSync(etc('records.config'), 'utf8'), `CONFIG proxy.config.http.server_ports STRING ${port}:ip-in=127.0.0.1`);
  records = setRecord(records, 'CONFIG proxy.config.exec_thread.autoconfig INT 0');
  // Not root: there is no user to switch to; '#-1' keeps the current one.
  if (userInfo().uid !== 0) records = setRecord(records, 'CONFIG proxy.config.admin.user_id STRING #-1');
  for (const line of (files.get('records.config') ?? '').split('\n')) if (line.startsWith('CONFIG ')) records = setRecord(records, line);
  writeFileSync(etc('records.config'), records);
  writeFileSync(etc('storage.config'), `${dir}/cache 64M\n`);
  for (const [name, text] of files) {
    if (name !== 'records.config') writeFileSync(name.startsWith('/') ? name : etc(name), text);
  }
  const rules = join(dir, 'var', 'regex_revalidate.config');
  const state = join(dir, 'var', 'regex_revalidate.state');
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
    config,
    log: () => tailOf(join(dir, 'log', 'diags.log')),
    stop: async () => {
      await stopAts(daemon.child, dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Replace the records.config line of the same name as `line`, or add it. */
function setRecord(records: string, line: string): string {
  const name = line.split(/\s+/)[1];
  const re = new RegExp(`^CONFIG ${name.replace(/\./g, '\\.')} .*$`, 'm');
  return re.test(records) ? records.replace(re, () => line) : `${records.replace(/\n*$/, '\n')}${line}\n`;
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

/** A zombie counts as stopped: PID 1 on these VMs does not reap orphans. */
function alive(pid: number): boolean {
  const ps = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  const stat = ps.stdout.trim();
  return ps.status === 0 && stat !== '' && !stat.startsWith('Z');
}
