import type { Product } from '../spec/types.js';
import type { WebhookDelivery } from './port.js';

/** A webhook_deliveries row (same columns in both adapters; task ids read as text or integer). */
export function toDelivery(r: Record<string, unknown>): WebhookDelivery {
  return {
    id: Number(r.id), accountId: r.account_id as number, taskId: String(r.task_id), product: r.product as Product, event: r.event as string,
    createdAt: Number(r.created_at), attempts: r.attempts as number, nextRunAt: Number(r.next_run_at), state: r.state as WebhookDelivery['state'],
    lastError: (r.last_error as string | null) ?? null, deliveredAt: r.delivered_at === null || r.delivered_at === undefined ? null : Number(r.delivered_at),
  };
}
