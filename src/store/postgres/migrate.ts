import type { Sql } from 'postgres';
import { MIGRATIONS } from './migrations.js';

/** Any constant works; it only has to differ from the store's other advisory lock keys. */
const MIGRATION_LOCK = 0x72_66_73_68_01; // "rfsh" 1

/**
 * Bring the schema up to date under a transaction-scoped advisory lock, so several processes
 * starting at once apply each migration exactly once: the others wait, then find nothing to do.
 */
export async function migrate(sql: Sql<{}>): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    // A separate statement after the lock, so its snapshot sees what a previous holder committed.
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`;
    const [{ v }] = await tx<{ v: number | null }[]>`SELECT max(version) AS v FROM schema_migrations`;
    const current = v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`store schema version ${current} is newer than this refreshd (${MIGRATIONS.length}); upgrade refreshd`);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await tx.unsafe(MIGRATIONS[version - 1]);
      await tx`INSERT INTO schema_migrations (version) VALUES (${version})`;
    }
  });
}
