/**
 * The describe benchmark's baselines, measured in the same run as refreshd so that its figures
 * are ratios that hold from one machine to another:
 *
 * - the bare server (bare-server.ts), a child process driven by the same load generator,
 *   signing and concurrency, answering with bodies captured from refreshd's own answers;
 * - the store's own reads for each query shape, in this process (describe-scenarios.ts);
 * - a raw insert loop: the same 1,000-URL batches through the store's own submit (its
 *   statements, its transaction and its WAL flush), as many in flight as the API ingest run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { freePort, stopProcess } from '../test/edges/harness/process.js';
import type { Store } from '../src/store/port.js';
import type { Facts } from './facts.js';
import { ingestBatches } from './describe-scenarios.js';

export interface BareServer {
  pid: number;
  pool: Pool;
  /** Answer every request from now on with these bodies, in turn. */
  can(bodies: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startBareServer(root: string, connections: number): Promise<BareServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/bare-server.ts'), '--port', String(port)], {
    cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', kill);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare server did not start in 30 s')), 30_000);
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`bare server exited with ${code}`))));
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('listening on')) (clearTimeout(timer), resolve());
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  return {
    pid: child.pid!,
    pool,
    async can(bodies) {
      const res = await request(`${base}/_bench/canned`, { method: 'PUT', body: JSON.stringify(bodies), headers: { 'content-type': 'application/json' } });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`bare server refused the canned bodies: ${res.statusCode}`);
    },
    async stop() {
      await pool.close();
      process.removeListener('exit', kill);
      await stopProcess(child, 5_000);
    },
  };
}

/**
 * The same batches as the API ingest run (other paths), each through the store's own submit
 * and its WAL flush, as the API's submit does with no local worker (`serve --no-worker`); the
 * usage counters are charged as the API charges them (a day and a minute bucket).
 */
export function rawIngest(store: Pick<Store, 'tasks'>, facts: Facts): () => () => Promise<number> {
  const next = ingestBatches(facts, 'raw');
  return () => {
    const { account, domain, urls } = next();
    return async () => {
      const now = Date.now();
      const out = await store.tasks.submit({
        accountId: account.id, product: 'cdn', createdAt: now,
        consume: [
          { bucket: `raw:day:${account.id}`, amount: urls.length, limit: 1e12, expiresAt: now + 86_400_000 },
          { bucket: `raw:minute:${domain}`, amount: urls.length, limit: 1e12, expiresAt: now + 120_000 },
        ],
        tasks: [{ domain, objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: urls }],
      });
      if (!out.ok) throw new Error('raw submit refused');
      await out.durable();
      return urls.length;
    };
  };
}
