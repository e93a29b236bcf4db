/**
 * The refreshd API processes a benchmark measures: N `serve --no-worker` children on their own
 * 127.0.0.1 ports over one store, started one after another and always stopped again (SIGTERM,
 * then SIGKILL), also when the bench fails or is interrupted.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { freePort, stopProcess } from '../test/edges/harness/process.js';

export interface ServerOptions {
  /** Directory holding bin/refreshd.js and dist/. */
  root: string;
  /** `--data DIR` (SQLite store, master key) and `--config FILE`. */
  dataDir: string;
  configFile: string;
  /** `--store URL` for PostgreSQL; absent: the SQLite store in dataDir. */
  storeUrl?: string;
  withWorker: boolean;
  /** Write a `--cpu-prof` profile of every process into this directory. */
  profileDir?: string;
}

export interface ApiProcess {
  child: ChildProcess;
  pid: number;
  port: number;
}

/** Every process started here, so an exit handler can kill what a failed run left behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The `serve` flags used, for the report (older builds may lack --no-worker). */
export function serveArgs(o: ServerOptions): string[] {
  const help = spawnSync(process.execPath, [join(o.root, 'bin/refreshd.js'), 'serve', '--help'], { encoding: 'utf8' }).stdout;
  return ['serve', '--no-rate-limit', ...(!o.withWorker && help.includes('--no-worker') ? ['--no-worker'] : [])];
}

/**
 * Start `n` API processes. One at a time: the first one to open a store migrates it and seals
 * the loaded `plain:` secrets; the next ones find nothing left to do.
 */
export async function startServers(o: ServerOptions, n: number): Promise<ApiProcess[]> {
  const out: ApiProcess[] = [];
  const args = serveArgs(o);
  try {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const prof = o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(o.profileDir)] : [];
      const store = o.storeUrl ? ['--store', o.storeUrl] : [];
      const child = spawn(process.execPath, [...prof, join(o.root, 'bin/refreshd.js'), ...args, '--data', o.dataDir, ...store, '--config', o.configFile, '--listen', `127.0.0.1:${port}`], {
        cwd: o.root,
        env: { ...process.env, REFRESHD_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      running.add(child);
      child.once('exit', () => running.delete(child));
      out.push({ child, pid: child.pid!, port });
      await waitListening(child);
    }
    return out;
  } catch (err) {
    await stopServers(out);
    throw err;
  }
}

export async function stopServers(procs: ApiProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => stopProcess(p.child, 15_000)));
}

/** One keep-alive pool per process, `connections` each. */
export function poolsFor(procs: ApiProcess[], connections: number): Pool[] {
  return procs.map((p) => new Pool(`http://127.0.0.1:${p.port}`, { connections, pipelining: 1, keepAliveTimeout: 60_000 }));
}

function waitListening(child: ChildProcess): Promise<void> {
  return new Promise((res, rej) => {
    let out = '';
    // A server on a 10 M-item PostgreSQL store runs its first retention sweep while starting.
    const timer = setTimeout(() => rej(new Error(`server did not start in 120 s; output: ${out}`)), 120_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before listening; output: ${out}`));
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('listening on')) {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        child.stdout!.resume();
        res();
      }
    });
    child.once('exit', onExit);
  });
}
