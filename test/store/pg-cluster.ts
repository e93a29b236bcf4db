import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';

/**
 * A throwaway PostgreSQL for tests: initdb into a temp dir, start on a free
 * 127.0.0.1 port with durability off, hand out fresh empty databases, stop and delete it all.
 * With REFRESHD_TEST_PG_URL set, that server is used instead and only the databases made here are
 * dropped. Missing binaries are an error, not a skip: CI installs PostgreSQL.
 */
export interface PgCluster {
  /** A new, empty database on the server; returns its URL. */
  createDatabase(): Promise<string>;
  /** Drop the databases made here; stop and delete the cluster when it was started here. */
  stop(): Promise<void>;
}

export interface PgClusterOptions {
  /**
   * Keep PostgreSQL's default durability (fsync, synchronous_commit, full_page_writes on).
   * Tests leave it off: they throw the cluster away and gain speed. Benchmarks that measure
   * commits turn it on, so their figures are those of a server that survives a power loss.
   */
  durable?: boolean;
  /** More `-c name=value` server settings (e.g. shared_buffers for a large benchmark store). */
  settings?: Record<string, string | number>;
}

export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const external = process.env.REFRESHD_TEST_PG_URL;
  if (external) return onServer(external, async () => {});
  const bin = findBinaries();
  const root = mkdtempSync(join(tmpdir(), 'refreshd-pg-'));
  const asRoot = userInfo().uid === 0;
  // initdb refuses to run as root: the cluster belongs to the `postgres` OS user, who must own
  // the directory and be able to write the log (a root-owned log path made initdb fail).
  if (asRoot) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (pw.status !== 0) throw new Error('running as root but there is no `postgres` OS user to own the test cluster');
    chownSync(root, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
  }
  const run = (cmd: string, args: string[], opts: SpawnSyncOptions = {}) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000, ...opts });
    if (r.status !== 0) {
      const log = existsSync(join(root, 'log')) ? readFileSync(join(root, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${cmd} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}\n${log}`);
    }
  };
  const data = join(root, 'data');
  const stopCluster = () => {
    if (existsSync(join(data, 'postmaster.pid'))) {
      try { run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop'], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
    rmSync(root, { recursive: true, force: true });
  };
  // A crashed test run must not leave a postmaster behind.
  process.once('exit', stopCluster);
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C.UTF-8']);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const settings: Record<string, string | number> = {
        ...(options.durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
        max_connections: 200, shared_buffers: '64MB', ...options.settings,
      };
      const opts = [`-p ${port}`, '-c listen_addresses=127.0.0.1', `-k ${root}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
      try {
        run('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-w', '-t', '30', '-o', opts, 'start']);
        break;
      } catch (err) {
        if (attempt >= 3) throw err; // the port may have been taken between probe and start
      }
    }
    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitReady(admin);
    return onServer(admin, async () => {
      process.removeListener('exit', stopCluster);
      stopCluster();
    });
  } catch (err) {
    process.removeListener('exit', stopCluster);
    stopCluster();
    throw err;
  }
}

async function onServer(adminUrl: string, shutdown: () => Promise<void>): Promise<PgCluster> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const made: string[] = [];
  return {
    async createDatabase() {
      const name = `refreshd_test_${process.pid}_${made.length}_${randomBytes(3).toString('hex')}`;
      await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE template0`);
      made.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      for (const name of made) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end({ timeout: 5 });
      await shutdown();
    },
  };
}

/** Bounded: pg_ctl -w already waited, this only proves a TCP login works. */
async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`test PostgreSQL did not accept connections: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
}

function findBinaries(): string {
  const candidates = [process.env.REFRESHD_TEST_PG_BIN];
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((x, y) => Number(y) - Number(x));
    candidates.push(...versions.map((v) => join(base, v, 'bin')));
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  for (const dir of candidates) if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found in REFRESHD_TEST_PG_BIN, /usr/lib/postgresql/*/bin or pg_config --bindir. ' +
      'Install postgresql (CI: apt-get install postgresql) or set REFRESHD_TEST_PG_URL to a server to test against.',
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
