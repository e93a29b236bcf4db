import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { WebhookConfig } from '../config/config.js';
import type { SecretBox } from '../identity/secret-box.js';
import { webhookDeliveries } from '../observability/metrics.js';
import type { ClaimedDelivery, DeliveryResult, Store } from '../store/port.js';
import { openWebhookSecret } from '../webhooks/admin.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook, taskFinishedPayload } from '../webhooks/event.js';
import { backoff } from './backoff.js';
import { onProgress } from './progress-events.js';

/**
 * Rounds never come closer than this, however often workers report progress: a round's finish
 * scan costs ~3 ms per 500 tasks in flight on SQLite (in the API's own event loop), so a busy
 * server spends at most a few percent on it; an event is sent at most this much later.
 */
const MIN_GAP_MS = 100;

/**
 * Pushes TaskFinished events to account webhooks; one runs in every worker process. Each round
 * it marks finished the tasks whose items are all terminal (the store queues one delivery per
 * task of an account with a webhook, in the same transaction), then leases due deliveries and
 * POSTs them, signed, recording each outcome under its lease. Rounds run every `pollMs`, and
 * soon after a worker of this process records outcomes.
 *
 * Delivery is at least once: a process that dies after a POST but before recording it leaves
 * the delivery to run again when its lease ends. Receivers dedupe by `x-refreshd-delivery`.
 */
export class Notifier {
  readonly owner = `${hostname()}:${process.pid}:notifier-${Math.random().toString(36).slice(2, 8)}`;
  private running = false;
  private loop: Promise<void> | undefined;
  private sleeper: (() => void) | undefined;
  private woken = false;
  /** Where the next finish scan continues (FinishScan.next). */
  private cursor: string | undefined;
  /** True when the last claim filled every free slot: a finished POST should look for more. */
  private saturated = false;
  private readonly sending = new Set<Promise<void>>();
  private readonly uids = new Map<number, string>();
  private readonly agent: Agent;
  private readonly abort = new AbortController();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: Pick<Store, 'identity' | 'outbox' | 'tasks'>,
    /** The master key, asked for only when a delivery has to be signed. */
    private readonly vault: () => Promise<SecretBox>,
    private readonly cfg: WebhookConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = onProgress(() => this.wake());
    this.loop = this.run();
  }

  /** Stop claiming; give POSTs in flight `graceMs` to finish, then cut them off; record them all. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.wake();
    await this.loop;
    const cutoff = setTimeout(() => this.abort.abort(new Error('notifier stopping')), graceMs);
    await Promise.allSettled([...this.sending]);
    clearTimeout(cutoff);
    await this.agent.close();
  }

  /** Tasks may just have finished: run a round soon instead of at the next poll. */
  wake(): void {
    this.woken = true;
    const s = this.sleeper;
    this.sleeper = undefined;
    s?.();
  }

  private async run(): Promise<void> {
    let last = 0;
    while (this.running) {
      const gap = last + MIN_GAP_MS - Date.now();
      if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      if (!this.running) break;
      // After this turn's other work: a WaitForTasks woken by the same progress answers first.
      await new Promise((r) => setImmediate(r));
      last = Date.now();
      this.woken = false;
      try {
        await this.round();
      } catch (err) {
        this.logger.error({ err }, 'webhook notifier round failed; retrying');
      }
      if (!this.woken) await this.sleep(this.cfg.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), ms);
      this.sleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One round: finish what is done, then send what is due. */
  private async round(): Promise<void> {
    const scan = await this.store.outbox.finishTasks(this.now(), this.cfg.finishBatch, this.cursor);
    this.cursor = scan.next;
    const free = this.cfg.maxInFlight - this.sending.size;
    if (free <= 0 || !this.running) return;
    const claimed = await this.store.outbox.claimDeliveries(this.owner, this.now(), this.cfg.leaseMs, free);
    this.saturated = claimed.length === free;
    for (const d of claimed) this.launch(d);
  }

  private launch(d: ClaimedDelivery): void {
    const p = this.deliver(d)
      .catch((err: unknown) => this.logger.error({ err, deliveryId: d.id, taskId: d.taskId }, 'webhook delivery not recorded; it runs again when its lease ends'))
      .finally(() => {
        this.sending.delete(p);
        if (this.saturated) this.wake();
      });
    this.sending.add(p);
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const result = await this.attempt(d);
    const counted = await this.store.outbox.recordDelivery(this.now(), d.id, d.lease, result);
    if (!counted) return; // the lease ran out and another process has it now
    webhookDeliveries.inc({ outcome: result.state });
    const where = { deliveryId: d.id, taskId: d.taskId, accountId: d.accountId, attempt: d.attempts + 1 };
    if (result.state === 'delivered') this.logger.debug(where, 'webhook delivered');
    else if (result.state === 'retry') this.logger.warn({ ...where, error: result.error, nextRunAt: new Date(result.nextRunAt).toISOString() }, 'webhook delivery failed; will retry');
    else this.logger.warn({ ...where, error: result.error }, 'webhook delivery failed for good');
  }

  private async attempt(d: ClaimedDelivery): Promise<DeliveryResult> {
    if (!d.webhook) return { state: 'failed', error: 'the account has no webhook any more' };
    if (d.taskCreatedAt === null) return { state: 'failed', error: 'the task is no longer stored (retention)' };
    let secret: string;
    try {
      secret = openWebhookSecret(await this.vault(), d.accountId, d.webhook.secretCipher);
    } catch (err) {
      return this.retryOrFail(d, `cannot open the signing secret: ${(err as Error).message}`);
    }
    const [items, attempts, uid] = await Promise.all([
      this.store.tasks.itemsOfTasks(d.accountId, d.product, [d.taskId], d.taskCreatedAt),
      this.store.tasks.attemptsOfTasks(d.accountId, d.product, [d.taskId], d.taskCreatedAt),
      this.uidOf(d.accountId),
    ]);
    const body = JSON.stringify(taskFinishedPayload(d, uid, items, attempts));
    try {
      const status = await this.post(d.webhook.url, d, secret, body);
      return status >= 200 && status < 300 ? { state: 'delivered' } : this.retryOrFail(d, `HTTP ${status}`);
    } catch (err) {
      return this.retryOrFail(d, describeError(err, this.cfg.timeoutMs));
    }
  }

  /** POST the body; redirects are not followed (a 3xx is a failed attempt). */
  private async post(url: string, d: ClaimedDelivery, secret: string, body: string): Promise<number> {
    const res = await request(url, {
      method: 'POST',
      dispatcher: this.agent,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'refreshd-webhook/1',
        [EVENT_HEADER]: d.event,
        [DELIVERY_HEADER]: String(d.id),
        [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(this.now() / 1000)),
      },
      signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.cfg.timeoutMs)]),
      headersTimeout: this.cfg.timeoutMs,
      bodyTimeout: this.cfg.timeoutMs,
    });
    // Read the answer to the end so the connection goes back to the pool; its content is not used.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    return res.statusCode;
  }

  private retryOrFail(d: ClaimedDelivery, error: string): DeliveryResult {
    return decideDelivery(d.attempts + 1, error, this.cfg, this.now(), this.random);
  }

  private async uidOf(accountId: number): Promise<string> {
    let uid = this.uids.get(accountId);
    if (uid === undefined) {
      uid = (await this.store.identity.getAccount(accountId))?.uid ?? String(accountId);
      this.uids.set(accountId, uid);
    }
    return uid;
  }
}

/**
 * After failed attempt number `attempt`: retry on the backoff schedule (backoff.ts), or give up
 * after maxAttempts.
 */
export function decideDelivery(
  attempt: number, error: string, cfg: Pick<WebhookConfig, 'maxAttempts' | 'retryBaseMs' | 'retryMaxMs'>, now: number, random = Math.random,
): DeliveryResult {
  if (attempt >= cfg.maxAttempts) return { state: 'failed', error: `gave up after ${attempt} attempts: ${error}` };
  return { state: 'retry', error, nextRunAt: now + backoff(attempt, cfg.retryBaseMs, cfg.retryMaxMs, random) };
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const inner = e.cause?.code ? e.cause : e;
  const text = typeof inner.code === 'string' ? `${inner.code}: ${inner.message ?? ''}` : String(inner.message ?? err);
  return text.trim().slice(0, 500);
}
