/**
 * Bulk loader for the describe benchmark on PostgreSQL: the same data set as fill-store.ts
 * (dataset.ts, same seed → same rows and ids), loaded with COPY.
 *
 * The schema is the store's own: PostgresStore.open() runs the migrations, and the day
 * partitions of `items`/`node_attempts` are made by the store's DayPartitions.ensure (the path a
 * submit takes), so the partitions carry exactly the indexes the server would give them. Rows
 * then go in through two COPY streams at once (tasks and items, one connection each), fed by one
 * generator; afterwards the identity sequences are moved past the loaded ids and the tables are
 * VACUUM ANALYZEd, which is where autovacuum would bring a store that has been running a while
 * (statistics for the planner, visibility map for index-only counts).
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { newAccessKeyPair, newAccountUid } from '../src/identity/keys.js';
import { LEGACY_PLAIN } from '../src/identity/secret-box.js';
import { DayPartitions } from '../src/store/postgres/partitions.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { ACCOUNT_AGE_MS, BenchData, DAY_MS, type DataOptions } from './dataset.js';
import { progress, type FillResult } from './fill-store.js';

export interface PgFillOptions extends DataOptions {
  url: string;
  log?: (line: string) => void;
}

export interface PgFillResult extends FillResult {
  /** Of `ms`: the VACUUM ANALYZE after the COPY. */
  vacuumMs: number;
}

/** COPY text format: backslash, tab, newline and carriage return are escaped; null is \N. */
const ESC: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
function esc(s: string | null): string {
  if (s === null) return '\\N';
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESC[c]) : s;
}

/** Buffers lines and writes them in ~256 KiB chunks, waiting whenever the socket pushes back. */
class CopyWriter {
  private buf: string[] = [];
  private size = 0;
  constructor(private readonly w: Writable) {}
  async line(text: string): Promise<void> {
    this.buf.push(text);
    this.size += text.length;
    if (this.size >= 262_144) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const chunk = this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (!this.w.write(chunk)) await once(this.w, 'drain');
  }
  /** Ends the COPY; resolves once the server has committed it. */
  async end(): Promise<void> {
    await this.flush();
    this.w.end();
    await finished(this.w);
  }
}

export async function fillPostgres(opts: PgFillOptions): Promise<PgFillResult> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const data = new BenchData(opts);
  const store = await PostgresStore.open(opts.url);
  const sql = store.raw;
  try {
    // --- accounts, keys, domains: a few thousand rows, one transaction -----------------------
    const created = opts.end - opts.spanMs - ACCOUNT_AGE_MS;
    const keys: FillResult['keys'] = [];
    const accountIds: number[] = [];
    await sql.begin(async (tx) => {
      const rows = await tx<{ id: number; name: string }[]>`
        INSERT INTO accounts (uid, name, created_at)
        SELECT uid, name, ${created} FROM unnest(${data.accounts.map(() => newAccountUid())}::text[], ${data.accounts.map((a) => a.name)}::text[]) WITH ORDINALITY AS u(uid, name, n)
         ORDER BY n RETURNING id, name`;
      const byName = new Map(rows.map((r) => [r.name, r.id]));
      for (const a of data.accounts) accountIds.push(byName.get(a.name)!);
      // As fill-store.ts: `plain:` secrets, sealed under the master key by the first server that opens the store.
      for (const id of accountIds) {
        const k = newAccessKeyPair();
        keys.push({ accountId: id, accessKeyId: k.accessKeyId, secret: k.secret });
      }
      await tx`
        INSERT INTO access_keys (access_key_id, secret_cipher, account_id, user_name, active, created_at)
        SELECT k, s, a, NULL, TRUE, ${created}
          FROM unnest(${keys.map((k) => k.accessKeyId)}::text[], ${keys.map((k) => LEGACY_PLAIN + k.secret)}::text[], ${accountIds}::int[]) AS u(k, s, a)`;
      const doms = data.accounts.flatMap((a, i) => a.domains.map((d) => ({ ...d, account: accountIds[i] })));
      await tx`
        INSERT INTO domains (name, account_id, product, origin, online, created_at)
        SELECT n, a, 'cdn', o, TRUE, ${created}
          FROM unnest(${doms.map((d) => d.name)}::text[], ${doms.map((d) => d.account)}::int[], ${doms.map((d) => d.origin)}::text[]) AS u(n, a, o)`;
    });

    // --- day partitions, through the store's own path -----------------------------------------
    const days: number[] = [];
    for (let t = opts.end - opts.spanMs; t < opts.end + DAY_MS; t += DAY_MS) days.push(Math.min(t, opts.end));
    await sql.begin((tx) => new DayPartitions().ensure(tx, days));

    // --- tasks and items: two COPY streams fed by one generator --------------------------------
    const taskCopy = new CopyWriter(await sql`
      COPY tasks (id, account_id, product, domain, object_type, force, area, l2_preload, with_header, item_count, created_at) FROM STDIN`.writable());
    const itemCopy = new CopyWriter(await sql`
      COPY items (id, task_id, account_id, product, domain, object_type, object_path, path_hash, created_at, status, nodes_total, nodes_applied, nodes_failed, description) FROM STDIN`.writable());
    const report = progress(log, opts.items, started);
    let items = 0;
    let tasks = 0;
    for (const t of data.tasks()) {
      const account = accountIds[t.account];
      const domain = esc(t.domain);
      await taskCopy.line(`${t.id}\t${account}\tcdn\t${domain}\t${t.type}\t${t.force ? 't' : 'f'}\t${esc(t.area)}\t${t.l2 ? 't' : 'f'}\t\\N\t${t.items.length}\t${t.createdAt}\n`);
      for (const i of t.items) {
        items++;
        await itemCopy.line(`${items}\t${t.id}\t${account}\tcdn\t${domain}\t${t.type}\t${esc(i.path)}\t${i.hash}\t${t.createdAt}\t${i.status}\t${i.total ?? '\\N'}\t${i.applied}\t${i.failed}\t${esc(i.description)}\n`);
      }
      tasks++;
      report(items, tasks);
    }
    await Promise.all([taskCopy.end(), itemCopy.end()]);
    report(items, tasks, true);
    await sql`SELECT setval('items_id_seq', ${items})`;
    await sql`SELECT setval(pg_get_serial_sequence('tasks', 'id'), (SELECT max(id) FROM tasks))`;

    log('  VACUUM (ANALYZE) ...');
    const v0 = performance.now();
    await sql`VACUUM (ANALYZE) items, tasks, accounts, access_keys, domains`;
    const vacuumMs = performance.now() - v0;
    log(`  VACUUM (ANALYZE) took ${(vacuumMs / 1000).toFixed(1)} s`);
    return { items, tasks, accounts: opts.accounts, domains: data.domainCount, ms: performance.now() - started, vacuumMs, keys };
  } finally {
    await store.close();
  }
}
