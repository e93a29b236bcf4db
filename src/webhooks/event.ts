import { createHmac, timingSafeEqual } from 'node:crypto';
import { toWire } from '../domain/describe.js';
import type { ItemStatus } from '../domain/progress.js';
import { formatUtc } from '../protocol/encoding.js';
import type { ClaimedDelivery, ItemRow, NodeAttemptRow } from '../store/port.js';

/**
 * The TaskFinished event as a receiver gets it: a JSON body and the headers that sign it.
 *
 * Signatures, Stripe-style: `x-refreshd-signature: t=<unix seconds>,v1=<hex>` where the
 * hex is HMAC-SHA256 keyed with the account's webhook secret (the 64-character hex text exactly
 * as `refreshd webhook set` printed it) over `<t>.<raw body>`. The time is signed with the body
 * so a receiver can refuse a captured request replayed later; every attempt is signed afresh.
 */
export const SIGNATURE_HEADER = 'x-refreshd-signature';
export const EVENT_HEADER = 'x-refreshd-event';
export const DELIVERY_HEADER = 'x-refreshd-delivery';

export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(secret, unixSeconds, body)}`;
}

/**
 * What a receiver does (README shows the same in a few lines): recompute the HMAC over the raw
 * body, compare in constant time, and refuse a timestamp further than `toleranceS` from now.
 */
export function verifyWebhook(secret: string, body: string, header: string | undefined, nowMs = Date.now(), toleranceS = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowMs / 1000 - t) > toleranceS) return false;
  return timingSafeEqual(Buffer.from(m[2], 'hex'), Buffer.from(hmac(secret, t, body), 'hex'));
}

function hmac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/**
 * The body of a TaskFinished event: the task as DescribeRefreshTaskById shows it (Alibaba names,
 * times as `yyyy-MM-ddTHH:mm:ssZ`), plus per item what DescribeRefreshTaskNodes would say in
 * short — how many nodes applied, failed or have not answered yet, and why the failed ones failed — so
 * a receiver needs no call back to act on a failure.
 */
export interface TaskFinishedPayload {
  Event: string;
  DeliveryId: string;
  TaskId: string;
  Product: string;
  /** The account's uid, as in RAM resources. */
  AccountId: string;
  DomainName: string;
  /** Failed when any item failed, else Complete. */
  Status: 'Complete' | 'Failed';
  CreationTime: string;
  FinishedTime: string;
  Items: PayloadItem[];
}

export interface PayloadItem {
  ObjectPath: string;
  ObjectType: string;
  Status: ItemStatus;
  Process: string;
  Description: string;
  Nodes: {
    Applied: number;
    Failed: number;
    /**
     * Nodes without an outcome yet: an item is Failed (so its task finished) as soon as one node
     * fails for good, while the item's other nodes may still be working on it.
     */
    Pending: number;
    FailedNodes: { Node: string; Attempts: number; Error: string }[];
  };
}

export function taskFinishedPayload(d: ClaimedDelivery, uid: string, items: ItemRow[], attempts: NodeAttemptRow[]): TaskFinishedPayload {
  const byPath = new Map<string, NodeAttemptRow[]>();
  for (const a of attempts) byPath.set(a.objectPath, [...(byPath.get(a.objectPath) ?? []), a]);
  const wire = items.map((item): PayloadItem => {
    const w = toWire(item);
    const nodes = byPath.get(item.objectPath) ?? [];
    const count = (state: NodeAttemptRow['state']) => nodes.filter((n) => n.state === state).length;
    return {
      ObjectPath: w.ObjectPath,
      ObjectType: w.ObjectType,
      Status: w.Status,
      Process: w.Process,
      Description: w.Description,
      Nodes: {
        Applied: count('applied'),
        Failed: count('failed'),
        Pending: count('pending'),
        FailedNodes: nodes.filter((n) => n.state === 'failed').map((n) => ({ Node: n.node, Attempts: n.attempts, Error: n.lastError ?? '' })),
      },
    };
  });
  return {
    Event: d.event,
    DeliveryId: String(d.id),
    TaskId: d.taskId,
    Product: d.product,
    AccountId: uid,
    DomainName: items[0]?.domain ?? '',
    Status: wire.some((i) => i.Status !== 'Complete') ? 'Failed' : 'Complete',
    CreationTime: formatUtc(d.taskCreatedAt ?? items[0]?.createdAt ?? 0),
    FinishedTime: formatUtc(d.finishedAt ?? 0),
    Items: wire,
  };
}
