import type Database from 'better-sqlite3';

/**
 * Rows a retention step deletes (plus the rows that share its last key): a step holds the event
 * loop for about a millisecond or two, where one statement over ten minutes of a busy server's
 * nonces or audit records held it for most of a second (docs/benchmarks.md, "Retention in steps").
 */
export const SWEEP_STEP_ROWS = 2_000;

/** Let the other callbacks of the event loop (API calls, outcome batches) run between two steps. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Deletes the rows of `table` whose integer column `key` is below `before`, in steps of about
 * `step` rows in key order, each step its own statement (its own transaction), yielding the event
 * loop between steps. `key` must lead an index (or the primary key), so that finding a step's end
 * reads `step` index entries and nothing else. `inStep` runs in each step's transaction first,
 * with the step's last key (rows with key ≤ it go): retention uses it to take the items it
 * deletes out of the per-hour counts. Returns how many rows went.
 *
 * Rows that share the step's last key go in the same step, so a step can exceed `step` by the
 * number of rows with one key (an item's attempts on all its nodes); every step deletes at least
 * one row, so the loop always ends.
 */
export async function deleteBelow(
  db: Database.Database,
  table: string,
  key: string,
  before: number,
  opts: { step?: number; inStep?: (lastKey: number) => void } = {},
): Promise<number> {
  const step = opts.step ?? SWEEP_STEP_ROWS;
  const lastOfStep = db.prepare(`SELECT ${key} FROM ${table} WHERE ${key} < ? ORDER BY ${key} LIMIT 1 OFFSET ?`).pluck();
  const upTo = db.prepare(`DELETE FROM ${table} WHERE ${key} <= ?`);
  const rest = db.prepare(`DELETE FROM ${table} WHERE ${key} < ?`);
  let deleted = 0;
  for (;;) {
    const last = lastOfStep.get(before, step - 1) as number | undefined;
    // Fewer than `step` rows left: the last step takes them all.
    const lastKey = last ?? before - 1;
    deleted += db.transaction(() => {
      opts.inStep?.(lastKey);
      return (last === undefined ? rest.run(before) : upTo.run(last)).changes;
    })();
    if (last === undefined) return deleted;
    await nextTurn();
  }
}
