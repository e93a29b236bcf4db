import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

/** Helpers to run real cache servers in tests: find them, wait for their port, stop them. */

/** Is this program installed? Edge tests fail loudly (never skip) when CI forgot to install it. */
export function requireBinary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) throw new Error(`${name} is not installed; .ci/run installs it with apt-get`);
  return path;
}

export function waitForPort(port: number, timeoutMs = 30_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = connect(port, host);
      sock.once('connect', () => { sock.destroy(); resolve(); });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Start a foreground daemon, keeping its output for error messages. */
export function startDaemon(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out = (out + c).slice(-8000)));
  child.stderr!.on('data', (c) => (out = (out + c).slice(-8000)));
  return { child, output: () => out };
}

/** Stop a process (and wait for it), escalating to SIGKILL after `graceMs`. */
export function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** The last 4 KB of a server's log file, for failure messages ('' while it does not exist). */
export function tailOf(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

/**
 * Wait for `ready`, failing at once (with its output and log) if the daemon exits first; on any
 * failure stop the daemon with `stop` so no half-started server is left behind.
 */
export async function untilReady(daemon: { child: ChildProcess; output: () => string }, ready: Promise<unknown>, name: string, logFile: string, stop: () => Promise<void>): Promise<void> {
  try {
    await Promise.race([
      ready,
      new Promise((_, reject) => daemon.child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${daemon.output()}${tailOf(logFile)}`)))),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Give a directory tree to the user a root-started server drops to (its package creates it). */
export function chownTree(path: string, user: string): void {
  const id = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (id.status !== 0) throw new Error(`user ${user} is missing; its package creates it`);
  const [uid, g] = [Number(id.stdout), Number(gid.stdout)];
  const walk = (p: string) => {
    chownSync(p, uid, g);
    if (statSync(p).isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(path);
}
