/**
 * Bulk loader for the describe benchmark on SQLite: fills a fresh refreshd store with the data
 * set of dataset.ts (accounts, root AccessKeys, domains, tasks and items over three days).
 *
 * Writes go through the store's own schema (SqliteStore runs the migrations) and its `.raw`
 * better-sqlite3 handle, with prepared statements in large transactions. Tasks keep the ids the
 * data set gives them (from 17000000001); items get ids 1, 2, … in created_at order, as the
 * server itself would write them. fill-postgres.ts loads the same rows into PostgreSQL.
 */
import { newAccessKeyPair, newAccountUid } from '../src/identity/keys.js';
import { LEGACY_PLAIN } from '../src/identity/secret-box.js';
import { REBUILD_ITEM_COUNTS } from '../src/store/sqlite/migrations.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { ACCOUNT_AGE_MS, BenchData, type DataOptions } from './dataset.js';

export interface FillOptions extends DataOptions {
  file: string;
  log?: (line: string) => void;
}

export interface FillResult {
  /** The root AccessKey pair of every account, by account id (the store keeps secrets sealed). */
  keys: { accountId: number; accessKeyId: string; secret: string }[];
  items: number;
  tasks: number;
  accounts: number;
  domains: number;
  ms: number;
}

/** Progress every 5 s: items so far, tasks, rows/s. */
export function progress(log: (line: string) => void, total: number, started: number) {
  let last = performance.now();
  return (items: number, tasks: number, force = false) => {
    const now = performance.now();
    if (!force && now - last < 5000) return;
    last = now;
    const s = (now - started) / 1000;
    log(`  loaded ${items.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} items (${tasks.toLocaleString('en-US')} tasks), ${s.toFixed(0)} s, ${Math.round(items / s).toLocaleString('en-US')} rows/s`);
  };
}

export function fillStore(opts: FillOptions): FillResult {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const data = new BenchData(opts);
  const store = new SqliteStore(opts.file);
  const db = store.raw;
  // Loader-only settings: the file is thrown away if the load fails, so no fsync; a big page
  // cache keeps the item indexes in memory while rows arrive in time order.
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -6000000');
  db.pragma('temp_store = MEMORY');

  // --- accounts, keys, domains -------------------------------------------------------------
  const accountIds: number[] = [];
  const keys: FillResult['keys'] = [];
  const created = opts.end - opts.spanMs - ACCOUNT_AGE_MS;
  db.transaction(() => {
    const insAccount = db.prepare('INSERT INTO accounts (uid, name, created_at) VALUES (?, ?, ?)');
    // A `plain:` secret is sealed under the master key by the first server that opens the store.
    const insKey = db.prepare('INSERT INTO access_keys (access_key_id, secret_cipher, account_id, user_name, active, created_at) VALUES (?, ?, ?, NULL, 1, ?)');
    const insDomain = db.prepare("INSERT INTO domains (name, account_id, product, origin, online, created_at) VALUES (?, ?, 'cdn', ?, 1, ?)");
    for (const plan of data.accounts) {
      const id = Number(insAccount.run(newAccountUid(), plan.name, created).lastInsertRowid);
      accountIds.push(id);
      const key = newAccessKeyPair();
      insKey.run(key.accessKeyId, `${LEGACY_PLAIN}${key.secret}`, id, created);
      keys.push({ accountId: id, accessKeyId: key.accessKeyId, secret: key.secret });
      for (const d of plan.domains) insDomain.run(d.name, id, d.origin, created);
    }
  })();

  // --- tasks and items -----------------------------------------------------------------------
  const insTask = db.prepare(
    `INSERT INTO tasks (id, account_id, product, domain, object_type, force, area, l2_preload, with_header, item_count, created_at)
     VALUES (?, ?, 'cdn', ?, ?, ?, ?, ?, NULL, ?, ?)`,
  );
  const insItem = db.prepare(
    `INSERT INTO items (task_id, account_id, product, domain, object_type, object_path, path_hash, created_at, status, nodes_total, nodes_applied, nodes_failed, description)
     VALUES (?, ?, 'cdn', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const tasks = data.tasks();
  let items = 0;
  let taskCount = 0;
  const CHUNK = 200_000;
  const report = progress(log, opts.items, started);
  const writeChunk = db.transaction((limit: number) => {
    while (items < limit) {
      const next = tasks.next();
      if (next.done) return;
      const t = next.value;
      const account = accountIds[t.account];
      insTask.run(t.id, account, t.domain, t.type, t.force, t.area, t.l2, t.items.length, t.createdAt);
      taskCount++;
      for (const i of t.items) {
        insItem.run(t.id, account, t.domain, t.type, i.path, i.hash, t.createdAt, i.status, i.total, i.applied, i.failed, i.description);
      }
      items += t.items.length;
    }
  });
  while (items < opts.items) {
    writeChunk(Math.min(opts.items, items + CHUNK));
    report(items, taskCount, items === opts.items);
  }
  // Items were written directly, not through submit: derive the per-hour counts from them.
  log('  counting items per hour ...');
  db.transaction(() => db.exec(REBUILD_ITEM_COUNTS))();
  log('  checkpointing WAL ...');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const ms = performance.now() - started;
  void store.close();
  return { items, tasks: taskCount, accounts: opts.accounts, domains: data.domainCount, ms, keys };
}
