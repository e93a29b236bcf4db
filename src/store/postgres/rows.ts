import postgres from 'postgres';
import type { SubmitType } from '../../domain/object-path.js';
import type { Product } from '../../spec/types.js';
import type { Account, CacheNode, Domain, ItemRow, ServiceState } from '../port.js';

/**
 * Connection setup and row mapping shared by the PostgreSQL store's parts.
 *
 * int8: postgres.js returns BIGINT as a string by default. Every BIGINT here is an epoch-ms time,
 * a 52-bit path hash, a count or an id far below 2^53, so they are parsed as numbers. Task ids
 * leave the store as decimal strings all the same: queries select `task_id::text`, so no id ever
 * goes through a double on its way to the wire.
 */
export type Types = { bigint: number };
export type Sql = postgres.Sql<Types>;
/** A pool or a transaction: whatever a query can run on. */
export type Db = postgres.ISql<Types>;

export function connect(url: string, options: { max?: number } = {}): Sql {
  const bigint: postgres.PostgresType<number> = { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) };
  return postgres(url, {
    max: options.max ?? 10,
    // Partition DDL and IF NOT EXISTS raise NOTICEs; the default handler prints them to stdout.
    onnotice: () => {},
    connection: { application_name: 'refreshd' },
    types: { bigint },
  });
}

/** SQLSTATE of an error thrown by postgres.js, if it is a server error. */
export function sqlState(err: unknown): string | undefined {
  return err instanceof postgres.PostgresError ? err.code : undefined;
}

/**
 * `EXISTS` an item of the task row aliased `t` still Pending or Refreshing: what keeps a task
 * unfinished, for the webhook finish scan (outbox.ts) and WaitForTasks (tasks.ts countOpenTasks). Items are
 * partitioned by day: `i.created_at = t.created_at` prunes each probe to one day. It seeks
 * items_account_type on the task's own (account, product, type, status, created_at);
 * `task_id + 0` keeps the planner off items_task, which would read every item of a big task each
 * round, and off an anti join over every open item of the store.
 */
export function openItemOfT(sql: Sql) {
  return sql`EXISTS (
    SELECT 1 FROM items i
     WHERE i.account_id = t.account_id AND i.product = t.product AND i.object_type = t.object_type
       AND i.status IN ('Pending', 'Refreshing') AND i.created_at = t.created_at AND i.task_id + 0 = t.id)`;
}

export type Row = Record<string, unknown>;

export function toAccount(x: Row | undefined): Account | undefined {
  if (!x) return undefined;
  return {
    id: x.id as number, uid: x.uid as string, name: x.name as string, createdAt: x.created_at as number,
    services: { cdn: x.cdn_service as ServiceState, vod: x.vod_service as ServiceState },
  };
}

export function toDomain(x: Row | undefined): Domain | undefined {
  if (!x) return undefined;
  return {
    name: x.name as string, accountId: x.account_id as number, product: x.product as Product,
    origin: (x.origin as string | null) ?? null, online: x.online as boolean, nodeGroup: x.node_group as string,
    createdAt: x.created_at as number,
  };
}

export function toNode(x: Row): CacheNode {
  return {
    id: x.id as number, name: x.name as string, driver: x.driver as string, address: x.address as string,
    group: x.node_group as string, area: x.area as CacheNode['area'], enabled: x.enabled as boolean,
    options: x.options as Record<string, unknown>, createdAt: x.created_at as number,
  };
}

/** Columns of an ItemRow; the task id as text (see above). */
export const ITEM_COLUMNS = 'id, task_id::text AS task_id, object_path, object_type, domain, created_at, nodes_total, nodes_applied, nodes_failed, description';

export function toItem(x: Row): ItemRow {
  return {
    itemId: Number(x.id), taskId: x.task_id as string, objectPath: x.object_path as string, objectType: x.object_type as SubmitType,
    domain: x.domain as string, createdAt: x.created_at as number, description: x.description as string,
    counts: { total: (x.nodes_total as number | null) ?? null, applied: x.nodes_applied as number, failed: x.nodes_failed as number },
  };
}
