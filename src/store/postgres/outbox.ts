import type { Product } from '../../spec/types.js';
import { leaseToken } from '../lease-token.js';
import type { ClaimedDelivery, DeliveryResult, FinishScan, Outbox, Webhook, WebhookDelivery } from '../port.js';
import { toDelivery } from '../webhook-rows.js';
import { openItemOfT, type Sql } from './rows.js';

/**
 * Finished tasks, webhooks and their deliveries on PostgreSQL (migration 3), shared by the
 * notifiers of every worker process. Finishing and claiming take rows with FOR UPDATE SKIP
 * LOCKED: two notifiers never wait on each other, never finish the same task twice and never
 * lease the same delivery twice.
 */
export class PgOutbox implements Outbox {
  constructor(private readonly sql: Sql) {}

  async finishTasks(now: number, limit: number, after = '0'): Promise<FinishScan> {
    // Scanning takes no locks (tasks_unfinished); only the tasks ready to finish are locked, in
    // id order and skipping any another notifier holds, so finishing never deadlocks or waits.
    // The open-item probe is rows.ts openItemOfT.
    const scanned = await this.sql<{ id: string }[]>`
      SELECT id::text AS id FROM tasks WHERE finished_at IS NULL AND id > ${after}::bigint ORDER BY id LIMIT ${limit}`;
    if (scanned.length === 0) return { finished: [] };
    const ids = scanned.map((r) => r.id);
    // One statement, so finishing and queueing the deliveries commit together.
    const done = await this.sql<{ id: string; account_id: number }[]>`
      WITH ready AS (
        SELECT t.id FROM tasks t
         WHERE t.id = ANY(${ids}::bigint[]) AND t.finished_at IS NULL
           AND EXISTS (SELECT 1 FROM items i WHERE i.task_id = t.id AND i.created_at = t.created_at)
           AND NOT ${openItemOfT(this.sql)}
         ORDER BY t.id FOR UPDATE OF t SKIP LOCKED
      ), done AS (
        UPDATE tasks t SET finished_at = ${now} FROM ready WHERE t.id = ready.id
        RETURNING t.id, t.account_id, t.product
      ), queued AS (
        INSERT INTO webhook_deliveries (account_id, task_id, product, event, created_at, next_run_at)
        SELECT d.account_id, d.id, d.product, 'TaskFinished', ${now}, ${now} FROM done d JOIN webhooks w ON w.account_id = d.account_id
        ON CONFLICT (task_id, event) DO NOTHING
      )
      SELECT id::text AS id, account_id FROM done ORDER BY id`;
    const finished = done.map((d) => ({ taskId: d.id, accountId: d.account_id }));
    return scanned.length === limit ? { finished, next: ids[ids.length - 1] } : { finished };
  }

  async setWebhook(accountId: number, hook: { url: string; secretCipher: string } | null, now: number): Promise<boolean> {
    if (hook === null) return (await this.sql`DELETE FROM webhooks WHERE account_id = ${accountId}`).count > 0;
    await this.sql`
      INSERT INTO webhooks (account_id, url, secret_cipher, created_at) VALUES (${accountId}, ${hook.url}, ${hook.secretCipher}, ${now})
      ON CONFLICT (account_id) DO UPDATE SET url = EXCLUDED.url, secret_cipher = EXCLUDED.secret_cipher, created_at = EXCLUDED.created_at`;
    return true;
  }

  async getWebhook(accountId: number): Promise<Webhook | undefined> {
    const [r] = await this.sql`SELECT * FROM webhooks WHERE account_id = ${accountId}`;
    return r && { accountId: r.account_id as number, url: r.url as string, secretCipher: r.secret_cipher as string, createdAt: r.created_at as number };
  }

  async claimDeliveries(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    // A token per claim, as for node attempts: only the latest holder's outcome counts. The
    // lease's end becomes the next run, so a dead notifier's delivery is due again then.
    const lease = leaseToken(owner);
    const until = now + leaseMs;
    const rows = await this.sql<Record<string, unknown>[]>`
      WITH due AS (
        SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_run_at <= ${now}
         ORDER BY next_run_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ), leased AS (
        UPDATE webhook_deliveries d SET lease_owner = ${lease}, lease_until = ${until}, next_run_at = ${until}
          FROM due WHERE d.id = due.id
        RETURNING d.id, d.account_id, d.task_id, d.product, d.event, d.attempts
      )
      SELECT l.id, l.account_id, l.task_id::text AS task_id, l.product, l.event, l.attempts,
             t.created_at AS task_created_at, t.finished_at, w.url, w.secret_cipher
        FROM leased l LEFT JOIN tasks t ON t.id = l.task_id LEFT JOIN webhooks w ON w.account_id = l.account_id
       ORDER BY l.id`;
    return rows.map((r) => ({
      id: r.id as number, lease, accountId: r.account_id as number, taskId: r.task_id as string, product: r.product as Product,
      event: r.event as string, attempts: r.attempts as number,
      taskCreatedAt: (r.task_created_at as number | null) ?? null, finishedAt: (r.finished_at as number | null) ?? null,
      webhook: r.url === null ? null : { url: r.url as string, secretCipher: r.secret_cipher as string },
    }));
  }

  async recordDelivery(now: number, id: number, lease: string, result: DeliveryResult): Promise<boolean> {
    const error = result.state === 'delivered' ? null : result.error;
    const res = await this.sql`
      UPDATE webhook_deliveries SET
             state = ${result.state === 'retry' ? 'pending' : result.state},
             attempts = attempts + 1,
             delivered_at = ${result.state === 'delivered' ? now : null},
             last_error = ${error},
             next_run_at = COALESCE(${result.state === 'retry' ? result.nextRunAt : null}::bigint, next_run_at),
             lease_owner = NULL, lease_until = NULL
       WHERE id = ${id} AND state = 'pending' AND lease_owner = ${lease}`;
    return res.count > 0;
  }

  async listDeliveries(accountId: number, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.sql`
      SELECT id, account_id, task_id::text AS task_id, product, event, created_at, attempts, next_run_at, state, last_error, delivered_at
        FROM webhook_deliveries WHERE account_id = ${accountId} ORDER BY id DESC LIMIT ${limit}`;
    return rows.map((r) => toDelivery(r));
  }

  async sweep(before: number): Promise<number> {
    return (await this.sql`DELETE FROM webhook_deliveries WHERE created_at < ${before}`).count;
  }
}
