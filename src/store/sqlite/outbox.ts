import type Database from 'better-sqlite3';
import type { Product } from '../../spec/types.js';
import { leaseToken } from '../lease-token.js';
import type { ClaimedDelivery, DeliveryResult, FinishScan, FinishedTask, Outbox, Webhook, WebhookDelivery } from '../port.js';
import { toDelivery } from '../webhook-rows.js';
import { openItemOf } from './item-reads.js';
import { deleteBelow } from './sweep-steps.js';

/**
 * Finished tasks, webhooks and their deliveries on SQLite (migration 4). Webhooks are admin
 * writes and go through the API connection (synchronous=FULL); finishing tasks and the delivery
 * queue are engine writes and go through the engine's connection (synchronous=NORMAL): a lost
 * "delivered" after a power cut means one more POST, which receivers dedupe by delivery id.
 */
export class SqliteOutbox implements Outbox {
  private readonly s;

  constructor(private readonly db: Database.Database, private readonly workDb: Database.Database) {
    const w = workDb;
    this.s = {
      setHook: db.prepare(
        `INSERT INTO webhooks (account_id, url, secret_cipher, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET url = excluded.url, secret_cipher = excluded.secret_cipher, created_at = excluded.created_at`,
      ),
      removeHook: db.prepare('DELETE FROM webhooks WHERE account_id = ?'),
      hookOf: db.prepare('SELECT * FROM webhooks WHERE account_id = ?'),
      // Through tasks_unfinished: only tasks in flight are ever looked at.
      scanned: w.prepare('SELECT count(*) AS n, max(id) AS last FROM (SELECT id FROM tasks WHERE finished_at IS NULL AND id > ? ORDER BY id LIMIT ?)'),
      // Conditional (finished_at IS NULL): a task another connection finished first is left
      // alone. A task needs at least one item (retention may have taken them) and none Pending or
      // Refreshing (the probe of item-reads.ts openItemOf).
      finish: w.prepare(
        `UPDATE tasks SET finished_at = ?
          WHERE id IN (SELECT id FROM tasks WHERE finished_at IS NULL AND id > ? ORDER BY id LIMIT ?)
            AND finished_at IS NULL
            AND EXISTS (SELECT 1 FROM items WHERE task_id = tasks.id)
            AND NOT ${openItemOf('tasks')}
          RETURNING id, account_id, product`,
      ),
      enqueue: w.prepare(
        `INSERT INTO webhook_deliveries (account_id, task_id, product, event, created_at, next_run_at)
         SELECT account_id, ?, ?, 'TaskFinished', ?, ? FROM webhooks WHERE account_id = ?
         ON CONFLICT (task_id, event) DO NOTHING`,
      ),
      // The lease's end becomes the next run: if this notifier dies, the delivery is due again then.
      lease: w.prepare(
        `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?, next_run_at = ?
          WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_run_at <= ? ORDER BY next_run_at LIMIT ?)
          RETURNING id, account_id, task_id, product, event, attempts`,
      ),
      // Through webhook_deliveries_due: a read, so a round with nothing due takes no write lock.
      anyDue: w.prepare("SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_run_at <= ? LIMIT 1"),
      taskOf: w.prepare('SELECT created_at, finished_at FROM tasks WHERE id = ?'),
      hookOfWork: w.prepare('SELECT url, secret_cipher FROM webhooks WHERE account_id = ?'),
      delivered: w.prepare(
        `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL, lease_owner = NULL, lease_until = NULL
          WHERE id = ? AND state = 'pending' AND lease_owner = ?`,
      ),
      retry: w.prepare(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, next_run_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
          WHERE id = ? AND state = 'pending' AND lease_owner = ?`,
      ),
      failed: w.prepare(
        `UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, last_error = ?, lease_owner = NULL, lease_until = NULL
          WHERE id = ? AND state = 'pending' AND lease_owner = ?`,
      ),
      list: db.prepare('SELECT * FROM webhook_deliveries WHERE account_id = ? ORDER BY id DESC LIMIT ?'),
    };
  }

  async finishTasks(now: number, limit: number, after = '0'): Promise<FinishScan> {
    return this.workDb.transaction((): FinishScan => {
      const { n, last } = this.s.scanned.get(Number(after), limit) as { n: number; last: number | null };
      const done = this.s.finish.all(now, Number(after), limit) as { id: number; account_id: number; product: Product }[];
      const finished: FinishedTask[] = [];
      for (const d of done.sort((x, y) => x.id - y.id)) {
        this.s.enqueue.run(d.id, d.product, now, now, d.account_id);
        finished.push({ taskId: String(d.id), accountId: d.account_id });
      }
      return n === limit && last !== null ? { finished, next: String(last) } : { finished };
    }).immediate();
  }

  async setWebhook(accountId: number, hook: { url: string; secretCipher: string } | null, now: number): Promise<boolean> {
    if (hook === null) return this.s.removeHook.run(accountId).changes > 0;
    this.s.setHook.run(accountId, hook.url, hook.secretCipher, now);
    return true;
  }

  async getWebhook(accountId: number): Promise<Webhook | undefined> {
    const r = this.s.hookOf.get(accountId) as Record<string, unknown> | undefined;
    return r && { accountId: r.account_id as number, url: r.url as string, secretCipher: r.secret_cipher as string, createdAt: r.created_at as number };
  }

  async claimDeliveries(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    // A token per claim, as for node attempts: only the latest holder's outcome counts.
    if (this.s.anyDue.get(now) === undefined) return [];
    const lease = leaseToken(owner);
    return this.workDb.transaction(() => {
      const rows = this.s.lease.all(lease, now + leaseMs, now + leaseMs, now, limit) as Record<string, unknown>[];
      return rows.map((r): ClaimedDelivery => {
        const task = this.s.taskOf.get(r.task_id) as { created_at: number; finished_at: number | null } | undefined;
        const hook = this.s.hookOfWork.get(r.account_id) as { url: string; secret_cipher: string } | undefined;
        return {
          id: r.id as number, lease, accountId: r.account_id as number, taskId: String(r.task_id), product: r.product as Product,
          event: r.event as string, attempts: r.attempts as number,
          taskCreatedAt: task?.created_at ?? null, finishedAt: task?.finished_at ?? null,
          webhook: hook ? { url: hook.url, secretCipher: hook.secret_cipher } : null,
        };
      }).sort((x, y) => x.id - y.id);
    }).immediate();
  }

  async recordDelivery(now: number, id: number, lease: string, result: DeliveryResult): Promise<boolean> {
    const s = this.s;
    if (result.state === 'delivered') return s.delivered.run(now, id, lease).changes > 0;
    if (result.state === 'retry') return s.retry.run(result.nextRunAt, result.error, id, lease).changes > 0;
    return s.failed.run(result.error, id, lease).changes > 0;
  }

  async listDeliveries(accountId: number, limit: number): Promise<WebhookDelivery[]> {
    return (this.s.list.all(accountId, limit) as Record<string, unknown>[]).map(toDelivery);
  }

  /** Deliveries created before `before` (they outlive their task by at most the retry time). */
  sweep(before: number): Promise<number> {
    return deleteBelow(this.db, 'webhook_deliveries', 'created_at', before);
  }
}
