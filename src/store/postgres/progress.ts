import { deriveStatus } from '../../domain/progress.js';
import { CANCELED_DESCRIPTION } from '../../domain/records.js';
import type { Db } from './rows.js';

/** The status of an item written and not yet dispatched. */
export const PENDING = deriveStatus({ total: null, applied: 0, failed: 0 });

/**
 * The one writer of item progress on PostgreSQL besides the insert of new items as PENDING
 * (tasks.ts): node counts, the first failure's description and the status column derived from
 * them. Dispatch, outcomes, cancels and node removal all go through here, so counters == a recount of
 * the attempt rows and status == deriveStatus(counters) hold in one place
 * (test/store/progress-contract.ts). Retention drops whole rows.
 */

/** Items dispatched onto `totals[i]` nodes each; with none, they fail at once, with the reason. */
export async function dispatched(tx: Db, ids: number[], created: number[], totals: number[]): Promise<void> {
  await tx`
    UPDATE items SET nodes_total = u.total, status = u.status, description = u.description
      FROM unnest(${ids}::bigint[], ${created}::bigint[], ${totals}::int[],
                  ${totals.map((n) => deriveStatus({ total: n, applied: 0, failed: 0 }))}::text[],
                  ${totals.map((n) => (n === 0 ? 'Internal Error' : ''))}::text[])
           AS u(id, created_at, total, status, description)
     WHERE items.id = u.id AND items.created_at = u.created_at`;
}

/** Items canceled before dispatch, each with one failed attempt on each of its `totals[i]` nodes in scope. */
export async function canceledBeforeDispatch(tx: Db, ids: number[], created: number[], totals: number[]): Promise<void> {
  await tx`
    UPDATE items SET nodes_total = u.total, nodes_failed = u.total, status = u.status, description = ${CANCELED_DESCRIPTION}
      FROM unnest(${ids}::bigint[], ${created}::bigint[], ${totals}::int[],
                  ${totals.map((n) => deriveStatus({ total: n, applied: 0, failed: n }))}::text[])
           AS u(id, created_at, total, status)
     WHERE items.id = u.id AND items.created_at = u.created_at AND items.nodes_total IS NULL`;
}

/** A change to one item's node counts: added to applied/failed/total (total is usually 0). */
export interface CountChange {
  id: number;
  created: number;
  applied: number;
  failed: number;
  total: number;
  /** Set as the item's description if it has none yet (the first failure's). */
  description: string | null;
}

/**
 * Apply count changes and re-derive each item's status column (domain/progress.ts) in the same
 * transaction. Item rows are locked in id order first: two transactions touching the same items
 * then queue up instead of deadlocking.
 */
export async function adjustCounts(tx: Db, changes: CountChange[]): Promise<void> {
  if (changes.length === 0) return;
  const c = [...changes].sort((x, y) => x.id - y.id);
  const ids = c.map((x) => x.id);
  const created = c.map((x) => x.created);
  await tx`
    SELECT 1 FROM items i JOIN unnest(${ids}::bigint[], ${created}::bigint[]) AS u(id, created_at)
        ON i.id = u.id AND i.created_at = u.created_at
     ORDER BY i.id FOR UPDATE OF i`;
  const rows = await tx<{ id: number; created_at: number; nodes_total: number | null; nodes_applied: number; nodes_failed: number }[]>`
    UPDATE items i SET nodes_applied = i.nodes_applied + u.applied, nodes_failed = i.nodes_failed + u.failed,
           nodes_total = i.nodes_total + u.total,
           description = CASE WHEN i.description = '' AND u.description IS NOT NULL THEN u.description ELSE i.description END
      FROM unnest(${ids}::bigint[], ${created}::bigint[], ${c.map((x) => x.applied)}::int[], ${c.map((x) => x.failed)}::int[],
                  ${c.map((x) => x.total)}::int[], ${c.map((x) => x.description)}::text[])
           AS u(id, created_at, applied, failed, total, description)
     WHERE i.id = u.id AND i.created_at = u.created_at
    RETURNING i.id, i.created_at, i.nodes_total, i.nodes_applied, i.nodes_failed`;
  if (rows.length === 0) return;
  await tx`
    UPDATE items i SET status = u.status
      FROM unnest(${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => r.created_at)}::bigint[],
                  ${rows.map((r) => deriveStatus({ total: r.nodes_total, applied: r.nodes_applied, failed: r.nodes_failed }))}::text[])
           AS u(id, created_at, status)
     WHERE i.id = u.id AND i.created_at = u.created_at AND i.status <> u.status`;
}

