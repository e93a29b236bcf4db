/**
 * The describe benchmark's PostgreSQL side: a throwaway cluster (test/store/pg-cluster.ts) with
 * durability on, or a server given with --pg-url; reading the filled store, undoing an ingest
 * run, timing the store's own sweep and EXPLAINing the Describe query shapes.
 */
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { pathHash } from '../src/store/path-hash.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { startPgCluster, type PgCluster } from '../test/store/pg-cluster.js';
import { assembleFacts, readKeys, sampleIds, timeSweep, type BenchBackend, type Facts } from './facts.js';

const log = (s: string) => process.stdout.write(s + '\n');

/**
 * Server settings of the bench cluster. Durability stays at PostgreSQL's defaults (fsync,
 * synchronous_commit, full_page_writes on): accepted submits must survive a crash, as on SQLite
 * (synchronous=FULL), so the ingest figures include the commit. The rest is ordinary tuning for
 * a 24 GiB host whose store fits in memory: a cache that holds the hot indexes, fewer
 * checkpoints during the bulk load, and random reads priced as the cached reads they are.
 */
export const BENCH_PG_SETTINGS: Record<string, string | number> = {
  shared_buffers: '2GB',
  effective_cache_size: '12GB',
  maintenance_work_mem: '512MB',
  max_wal_size: '8GB',
  checkpoint_timeout: '30min',
  random_page_cost: 1.1,
};

export class PgBackend implements BenchBackend {
  readonly name = 'postgres';
  readonly serverStoreArgs: string[];
  private constructor(
    readonly url: string,
    private readonly sql: postgres.Sql<{ bigint: number }>,
    readonly dbPid: number | undefined,
    private readonly cluster?: PgCluster,
  ) {
    this.serverStoreArgs = ['--store', url];
  }

  /** Start a cluster and make an empty database, or connect to `url` (a server run elsewhere). */
  static async open(url?: string): Promise<PgBackend> {
    const cluster = url ? undefined : await startPgCluster({ durable: true, settings: BENCH_PG_SETTINGS });
    try {
      const dbUrl = url ?? (await cluster!.createDatabase());
      const bigint: postgres.PostgresType<number> = { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) };
      const sql = postgres(dbUrl, { max: 2, onnotice: () => {}, types: { bigint } });
      // The postmaster is the parent of our backend: its CPU and its children's is the database's.
      const [{ pid }] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      let postmaster: number | undefined;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      } catch {
        postmaster = undefined; // another host: its CPU is not ours to measure
      }
      return new PgBackend(dbUrl, sql, postmaster, cluster);
    } catch (err) {
      await cluster?.stop();
      throw err;
    }
  }

  async describe(): Promise<string> {
    const [{ v }] = await this.sql<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
    const names = ['fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'effective_cache_size', 'random_page_cost', 'jit'];
    const rows = await this.sql<{ name: string; setting: string; unit: string | null }[]>`SELECT name, setting, unit FROM pg_settings WHERE name = ANY(${names})`;
    const shown = rows.map((r) => `${r.name}=${r.unit === '8kB' ? `${(Number(r.setting) * 8) / 1024} MB` : r.setting}`);
    return `PostgreSQL ${v} (${shown.join(', ')})`;
  }

  async facts(keysFile: string): Promise<Facts> {
    const sql = this.sql;
    const [{ lo, hi, n }] = await sql<{ lo: number; hi: number; n: number }[]>`SELECT min(id) AS lo, max(id) AS hi, count(*)::int AS n FROM items`;
    const ids = sampleIds(lo, hi);
    // One round trip for the whole sample, each id resolved as SQLite does (the first id >= it).
    const rows = await sql<{ k: number; account_id: number; task_id: number; object_path: string; domain: string; object_type: string }[]>`
      SELECT x.k, i.* FROM unnest(${ids}::bigint[]) WITH ORDINALITY AS x(id, k)
      CROSS JOIN LATERAL (SELECT account_id, task_id, object_path, domain, object_type FROM items WHERE id >= x.id ORDER BY id LIMIT 1) i`;
    const byK = new Map(rows.map((r) => [r.k, r]));
    return assembleFacts(readKeys(keysFile), {
      domains: await sql<{ name: string; account_id: number }[]>`SELECT name, account_id FROM domains ORDER BY name`,
      tasks: (await sql`SELECT id, account_id, item_count FROM tasks WHERE product = 'cdn' ORDER BY id`.values()) as unknown as [number, number, number][],
      itemCount: n,
      oldest: (await sql<{ m: number }[]>`SELECT min(created_at) AS m FROM tasks`)[0].m,
      samples: ids.map((_, i) => byK.get(i + 1)),
    });
  }

  async sizeBytes(): Promise<number> {
    const [{ b }] = await this.sql<{ b: number }[]>`SELECT pg_database_size(current_database()) AS b`;
    return b;
  }

  async highWater(): Promise<{ item: number; task: number }> {
    const [r] = await this.sql<{ item: number; task: number }[]>`SELECT (SELECT max(id) FROM items) AS item, (SELECT max(id) FROM tasks) AS task`;
    return r;
  }

  async removeAbove(hw: { item: number; task: number }): Promise<number> {
    const n = await this.sql.begin(async (tx) => {
      const gone = await tx`DELETE FROM items WHERE id > ${hw.item}`;
      await tx`DELETE FROM tasks WHERE id > ${hw.task}`;
      await tx`DELETE FROM usage_counters`;
      await tx`DELETE FROM node_attempts WHERE item_id > ${hw.item}`;
      return gone.count;
    });
    // Leave the store as loaded: no dead rows for the next run's scans to step over.
    await this.sql`VACUUM (ANALYZE) items, tasks`;
    return n;
  }

  async openStore(): Promise<PostgresStore> {
    return PostgresStore.open(this.url);
  }

  async measureSweep(oldest: number): Promise<number> {
    return timeSweep(await PostgresStore.open(this.url, { max: 2 }), oldest);
  }

  /** EXPLAIN ANALYZE of the statements PgTasks runs (src/store/postgres/tasks.ts), heaviest account. */
  async explain(facts: Facts): Promise<void> {
    const a = facts.heaviest;
    const w = `account_id = ${a.id} AND product = 'cdn' AND created_at BETWEEN 0 AND ${Date.now()}`;
    const path = facts.samples.find((s) => s.accountId === a.id)?.path ?? '';
    const cols = 'task_id::text AS task_id, object_path, object_type, domain, created_at, nodes_total, nodes_applied, nodes_failed, description';
    const order = 'ORDER BY created_at DESC, id DESC';
    const shapes: [string, string][] = [
      ['unfiltered', w],
      ['type+status', `${w} AND object_type = 'file' AND status = 'Complete'`],
      ['type only', `${w} AND object_type = 'file'`],
      ['domain+type', `${w} AND object_type = 'file' AND domain = ANY('{${a.domains[0]}}'::text[])`],
      ['path', `${w} AND path_hash = ${pathHash(path)} AND object_path = '${path.replaceAll("'", "''")}'`],
      ['taskid', `${w} AND task_id = ${a.tasks[0]}`],
    ];
    const stmts: [string, string][] = [];
    for (const [name, where] of shapes) {
      stmts.push([`${name} count`, `SELECT count(*) AS n FROM items WHERE ${where}`]);
      stmts.push([`${name} page`, `SELECT ${cols} FROM items WHERE ${where} ${order} LIMIT 20 OFFSET 0`]);
    }
    stmts.push(['last page (100)', `SELECT ${cols} FROM items WHERE ${w} ${order} LIMIT 100 OFFSET ${Math.max(0, a.items - 100)}`]);
    stmts.push(['ById 10 ids', `SELECT ${cols} FROM items WHERE task_id = ANY('{${a.tasks.slice(0, 10).join(',')}}'::bigint[]) AND account_id = ${a.id} AND product = 'cdn' AND created_at >= 0 ORDER BY items.task_id, id`]);
    for (const [name, text] of stmts) {
      const plan = await this.sql.unsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`);
      const lines = plan.map((p) => p['QUERY PLAN']);
      const time = lines.find((l) => l.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '?';
      log(`  [${name}] ${time}`);
      for (const l of lines.filter((x) => /Scan|Append|Sort|Aggregate|Limit|JIT|Heap Fetches/.test(x)).slice(0, 12)) log(`      ${l.trim()}`);
    }
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
    await this.cluster?.stop();
  }
}
