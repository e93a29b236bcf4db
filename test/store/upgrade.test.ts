import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { MIGRATIONS as PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startPgCluster } from './pg-cluster.js';
import { PG_BEFORE, PG_FLOOR, postgresSchema, rewindPostgres, rewindSqlite, SQLITE_BEFORE, SQLITE_FLOOR, sqliteSchema } from './rewind.js';
import { upgradeContract } from './upgrade-contract.js';

/**
 * Upgrades: the upgrade contract (upgrade-contract.ts) on both stores, and the rewind it rests on.
 * The upgrade tests rewind today's stores to older schemas (rewind.ts). A rewind is only as good
 * as its undo steps: here, for every version from the oldest rewound to today's, a store written
 * by today's code and rewound has exactly the schema that version's migrations create on a new
 * file, so an upgrade test starts from what that release really left behind.
 */
describe('rewinding a SQLite store', () => {
  for (let version = SQLITE_FLOOR; version <= SQLITE_MIGRATIONS.length; version++) {
    it(`to schema ${version} gives that version's schema`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'refreshd-rewind-'));
      const reference = new Database(join(dir, 'reference.db'));
      for (const m of SQLITE_MIGRATIONS.slice(0, version)) reference.exec(m);
      const file = join(dir, 'refreshd.db');
      await new SqliteStore(file).close();
      const db = new Database(file);
      rewindSqlite(db, version);
      assert.deepEqual(sqliteSchema(db), sqliteSchema(reference));
      assert.equal(db.pragma('user_version', { simple: true }), version);
      db.close();
      reference.close();
    });
  }
});

const cluster = await startPgCluster();
after(() => cluster.stop());

describe('rewinding a PostgreSQL database', () => {
  for (let version = PG_FLOOR; version <= PG_MIGRATIONS.length; version++) {
    it(`to schema ${version} gives that version's schema`, async () => {
      const reference = postgres(await cluster.createDatabase(), { max: 1, onnotice: () => {} });
      const url = await cluster.createDatabase();
      await (await PostgresStore.open(url)).close();
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      try {
        for (const m of PG_MIGRATIONS.slice(0, version)) await reference.unsafe(m);
        await rewindPostgres(sql, version);
        assert.deepEqual(await postgresSchema(sql), await postgresSchema(reference));
        const [{ v }] = await sql`SELECT max(version) AS v FROM schema_migrations`;
        assert.equal(v, version);
      } finally {
        await sql.end();
        await reference.end();
      }
    });
  }
});

upgradeContract('sqlite', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'refreshd-upgrade-')), 'refreshd.db');
  const store = new SqliteStore(file);
  return {
    store,
    latest: SQLITE_MIGRATIONS.length,
    reopenBefore: async (migration, sql) => {
      await store.close();
      const db = new Database(file);
      if (sql) db.exec(sql);
      rewindSqlite(db, SQLITE_BEFORE[migration]);
      db.close();
      return new SqliteStore(file);
    },
  };
});

upgradeContract('postgres', async () => {
  const url = await cluster.createDatabase();
  const store = await PostgresStore.open(url);
  return {
    store,
    latest: PG_MIGRATIONS.length,
    reopenBefore: async (migration, sql) => {
      if (sql) await store.raw.unsafe(sql);
      await rewindPostgres(store.raw, PG_BEFORE[migration]);
      await store.close();
      return PostgresStore.open(url);
    },
  };
});
