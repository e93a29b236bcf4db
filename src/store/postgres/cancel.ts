import { CANCELED_DESCRIPTION, CANCELED_ERROR, nodesInScope } from '../../domain/records.js';
import type { Product } from '../../spec/types.js';
import { StoreBusy } from '../errors.js';
import type { CanceledTask } from '../port.js';
import { adjustCounts, canceledBeforeDispatch } from './progress.js';
import { toNode, type Db, type Row, type Sql } from './rows.js';

/** Channel for "these tasks were canceled"; the payload is their ids, comma-joined (PostgresStore listenForCancel). */
export const CANCEL_CHANNEL = 'refreshd_cancel';

/** How long a cancel keeps coming back for attempts other transactions hold, before it gives up (StoreBusy). */
const GIVE_UP_MS = 10_000;
const PAUSE_MS = 5;

interface FoundTask {
  id: string;
  created_at: number;
  area: string | null;
  grp: string;
}

/** Per task: the items this cancel stopped work on, and how many node attempts it closed. */
type Tally = Map<string, { items: Set<number>; nodes: number }>;

/**
 * CancelRefreshTasks on PostgreSQL, where workers in other processes dispatch, claim and record
 * outcomes all the while. Two steps, each in short transactions that take locks in the order
 * the queue takes them, so a cancel never closes a cycle with a worker:
 *
 * 1. Items not yet dispatched are locked (waiting for a dispatch that holds one: it then is
 *    dispatched, and step 2 finds its attempts) and given their attempts already failed.
 * 2. Pending attempts are closed with FOR UPDATE SKIP LOCKED, then their items' counts follow
 *    (adjustCounts locks items in id order, as recordOutcomes does after its attempts). A row
 *    another transaction holds — an outcome being recorded, a claim, a node removal — is left
 *    for the next round, after that transaction ends: applied or failed, it is finished; back to
 *    pending (a retry, a claim), it is closed then. A worker's outcome for a closed attempt finds
 *    it no longer pending under its lease (queue.ts) and counts for nothing.
 */
export class PgCancel {
  constructor(private readonly sql: Sql) {}

  async cancel(accountId: number, product: Product, taskIds: string[], from: number, now: number): Promise<CanceledTask[]> {
    const tasks = await this.sql<FoundTask[]>`
      SELECT t.id::text AS id, t.created_at, t.area, coalesce(d.node_group, 'default') AS grp
        FROM tasks t LEFT JOIN domains d ON d.name = t.domain
       WHERE t.id = ANY(${taskIds}::bigint[]) AND t.account_id = ${accountId} AND t.product = ${product} AND t.created_at >= ${from}
       ORDER BY t.id`;
    if (tasks.length === 0) return [];
    const tally: Tally = new Map(tasks.map((t) => [t.id, { items: new Set(), nodes: 0 }]));
    await this.sql.begin((tx) => this.beforeDispatch(tx, tasks, now, tally));

    const ids = tasks.map((t) => t.id);
    const days = [...new Set(tasks.map((t) => t.created_at))];
    const items = await this.sql<{ id: number; task_id: string }[]>`
      SELECT id, task_id::text AS task_id FROM items WHERE task_id = ANY(${ids}::bigint[]) AND created_at = ANY(${days}::bigint[])`;
    const taskOf = new Map(items.map((i) => [Number(i.id), i.task_id]));
    const giveUp = Date.now() + GIVE_UP_MS;
    while ((await this.sql.begin((tx) => this.closePending(tx, [...taskOf.keys()], days, now, taskOf, tally))) > 0) {
      if (Date.now() > giveUp) throw new StoreBusy();
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }

    // Every attempt is closed now: workers in other processes drop those they hold unstarted.
    await this.sql`SELECT pg_notify(${CANCEL_CHANNEL}, ${ids.join(',')})`;

    const summary = await this.sql<{ task_id: string; items: number; complete: number; failed: number; applied: number }[]>`
      SELECT task_id::text AS task_id, count(*)::int AS items, count(*) FILTER (WHERE status = 'Complete')::int AS complete,
             count(*) FILTER (WHERE status = 'Failed')::int AS failed, sum(nodes_applied)::int AS applied
        FROM items WHERE task_id = ANY(${ids}::bigint[]) AND created_at = ANY(${days}::bigint[])
       GROUP BY task_id ORDER BY task_id`;
    return summary.map((r) => ({
      taskId: r.task_id, items: r.items, complete: r.complete, failed: r.failed,
      canceledItems: tally.get(r.task_id)!.items.size, canceledNodes: tally.get(r.task_id)!.nodes, appliedNodes: r.applied,
    }));
  }

  /** Step 1: the tasks' undispatched items get one failed attempt per node in scope, as a dispatch would have given them. */
  private async beforeDispatch(tx: Db, tasks: FoundTask[], now: number, tally: Tally): Promise<void> {
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const items = await tx<{ id: number; created_at: number; task_id: string }[]>`
      SELECT id, created_at, task_id::text AS task_id FROM items
       WHERE task_id = ANY(${[...byId.keys()]}::bigint[]) AND created_at = ANY(${[...new Set(tasks.map((t) => t.created_at))]}::bigint[])
         AND nodes_total IS NULL
       ORDER BY id FOR UPDATE`;
    if (items.length === 0) return;
    // Key-share locked as a dispatch reads them, so a node being removed is either not read or waits.
    const nodes = (await tx<Row[]>`
      SELECT id, name, driver, address, node_group, area, enabled, options, created_at
        FROM nodes WHERE node_group = ANY(${[...new Set(tasks.map((t) => t.grp))]}::text[]) AND enabled ORDER BY id
         FOR KEY SHARE`).map(toNode);
    const rows = { item: [] as number[], created: [] as number[], node: [] as number[] };
    const totals: number[] = [];
    for (const i of items) {
      const t = byId.get(i.task_id)!;
      const scope = nodesInScope(nodes, t.grp, t.area);
      for (const n of scope) (rows.item.push(i.id), rows.created.push(i.created_at), rows.node.push(n.id));
      totals.push(scope.length);
      const c = tally.get(i.task_id)!;
      c.items.add(Number(i.id));
      c.nodes += scope.length;
    }
    if (rows.item.length > 0) {
      await tx`
        INSERT INTO node_attempts (item_id, item_created_at, node_id, state, attempts, next_run_at, last_error, applied_at)
        SELECT i, c, n, 'failed', 0, ${now}, ${CANCELED_ERROR}, ${now}
          FROM unnest(${rows.item}::bigint[], ${rows.created}::bigint[], ${rows.node}::int[]) AS u(i, c, n)
        ON CONFLICT DO NOTHING`;
    }
    await canceledBeforeDispatch(tx, items.map((i) => i.id), items.map((i) => i.created_at), totals);
  }

  /** Step 2, one round: close the pending attempts no other transaction holds; returns how many are still pending. */
  private async closePending(tx: Db, itemIds: number[], days: number[], now: number, taskOf: Map<number, string>, tally: Tally): Promise<number> {
    const closed = await tx<{ item_id: number; item_created_at: number }[]>`
      WITH open AS (
        SELECT item_id, node_id, item_created_at FROM node_attempts
         WHERE item_id = ANY(${itemIds}::bigint[]) AND item_created_at = ANY(${days}::bigint[]) AND state = 'pending'
           FOR UPDATE SKIP LOCKED
      )
      UPDATE node_attempts a SET state = 'failed', last_error = ${CANCELED_ERROR}, applied_at = ${now}, lease_owner = NULL, lease_until = NULL
        FROM open o
       WHERE a.item_id = o.item_id AND a.node_id = o.node_id AND a.item_created_at = o.item_created_at
      RETURNING a.item_id, a.item_created_at`;
    const perItem = new Map<number, { created: number; n: number }>();
    for (const r of closed) {
      const c = perItem.get(Number(r.item_id)) ?? { created: r.item_created_at, n: 0 };
      c.n++;
      perItem.set(Number(r.item_id), c);
    }
    await adjustCounts(tx, [...perItem].map(([id, c]) => ({ id, created: c.created, applied: 0, failed: c.n, total: 0, description: CANCELED_DESCRIPTION })));
    for (const [id, c] of perItem) {
      const t = tally.get(taskOf.get(id)!)!;
      t.items.add(id);
      t.nodes += c.n;
    }
    const [{ n }] = await tx<{ n: number }[]>`
      SELECT count(*)::int AS n FROM node_attempts
       WHERE item_id = ANY(${itemIds}::bigint[]) AND item_created_at = ANY(${days}::bigint[]) AND state = 'pending'`;
    return n;
  }
}
