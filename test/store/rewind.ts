import type Database from 'better-sqlite3';
import type postgres from 'postgres';
import { MIGRATIONS as PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import type { Migration } from './upgrade-contract.js';

/**
 * Upgrade tests write a store with today's code, then rewind it to an older schema and open it
 * again, so that the migrations after that version run on real data. Rewinding is undoing each
 * later migration, newest first: one entry per migration here, so a new migration adds one line
 * instead of an edit to every older upgrade test. (upgrade.test.ts checks that rewinding a fresh
 * store to any version gives exactly the schema that version's migrations create.)
 *
 * Keyed by the schema version a migration brings a store to (its 1-based place in MIGRATIONS).
 * A data-only migration undoes nothing: its test puts the old data back itself.
 */
const SQLITE_UNDO: Record<number, string> = {
  8: '',
  9: 'ALTER TABLE node_attempts DROP COLUMN verified_by; DROP TABLE node_groups;',
  10: 'DROP TABLE client_tokens;',
  11: 'ALTER TABLE tasks DROP COLUMN preload_after; ALTER TABLE node_attempts DROP COLUMN phase; ALTER TABLE node_attempts DROP COLUMN purged_at;',
  12: 'ALTER TABLE tasks DROP COLUMN verify_urls;',
};

const PG_UNDO: Record<number, string> = {
  5: '',
  6: 'ALTER TABLE node_attempts DROP COLUMN verified_by; DROP TABLE node_groups;',
  7: 'DROP TABLE client_tokens;',
  8: 'ALTER TABLE tasks DROP COLUMN preload_after; ALTER TABLE node_attempts DROP COLUMN phase, DROP COLUMN purged_at;',
  9: 'ALTER TABLE tasks DROP COLUMN verify_urls;',
};

/** The schema just before each migration the upgrade contract tests (upgrade-contract.ts). */
export const SQLITE_BEFORE: Record<Migration, number> = { 'pending-until-confirmed': 7, 'verified-by': 8, 'client-tokens': 9, 'verify-urls': 11 };
export const PG_BEFORE: Record<Migration, number> = { 'pending-until-confirmed': 4, 'verified-by': 5, 'client-tokens': 6, 'verify-urls': 8 };

/** The oldest version a store can be rewound to (the first with an undo entry after it). */
export const SQLITE_FLOOR = Math.min(...Object.keys(SQLITE_UNDO).map(Number)) - 1;
export const PG_FLOOR = Math.min(...Object.keys(PG_UNDO).map(Number)) - 1;

function undoSteps(undo: Record<number, string>, latest: number, version: number): string[] {
  const steps: string[] = [];
  for (let v = latest; v > version; v--) {
    if (!(v in undo)) throw new Error(`no undo for migration ${v}: add it to test/store/rewind.ts`);
    steps.push(undo[v]);
  }
  return steps.filter((s) => s !== '');
}

/** Rewind a closed SqliteStore's file (opened here as `db`) to schema `version`. */
export function rewindSqlite(db: Database.Database, version: number): void {
  for (const sql of undoSteps(SQLITE_UNDO, SQLITE_MIGRATIONS.length, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
}

/** Rewind a PostgreSQL database written by PostgresStore to schema `version`. */
export async function rewindPostgres(sql: postgres.Sql, version: number): Promise<void> {
  for (const step of undoSteps(PG_UNDO, PG_MIGRATIONS.length, version)) await sql.unsafe(step);
  await sql`DELETE FROM schema_migrations WHERE version > ${version}`;
}

/** Every table, index and trigger with its SQL, whitespace folded: two files compare equal. */
export function sqliteSchema(db: Database.Database): string[] {
  return db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all()
    .map((r) => JSON.stringify(r).replace(/\s+/g, ' '));
}

/** Every column with its type, and every index, of the public tables (partitions as their parent). */
export async function postgresSchema(sql: postgres.Sql): Promise<string[]> {
  const columns = await sql`
    SELECT c.relname AS t, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'schema_migrations'
       AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY 1, 2`;
  const indexes = await sql`
    SELECT c.relname AS i FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('i', 'I') AND NOT c.relispartition AND c.relname NOT LIKE 'schema_migrations%'
     ORDER BY 1`;
  return [...columns.map((r) => `${r.t}.${r.col} ${r.type}`), ...indexes.map((r) => `index ${r.i}`)];
}
