import type { Logger } from 'pino';
import type { AuditRecord, Store } from '../store/port.js';

/** Parameters never written to the audit log, whatever their value. */
const DROPPED = new Set(['signature', 'securitytoken']);
const SECRET_NAME = /secret|password/i;
const MAX_VALUE_CHARS = 2048;
const MAX_PARAMS_CHARS = 16_384;
const MAX_ACTION_CHARS = 128;

/**
 * The request's parameters as the audit log keeps them: a JSON object without Signature,
 * SecurityToken or anything named like a secret, with every occurrence of the caller's own
 * AccessKey secret masked (in case a client put it where it does not belong), and long values
 * (a 1,000-URL ObjectPath) cut to keep one row small.
 */
export function auditParams(params: Map<string, string> | undefined, secret?: string): string {
  const out: Record<string, string> = {};
  let total = 0;
  for (const [name, raw] of params ?? []) {
    if (DROPPED.has(name.toLowerCase()) || SECRET_NAME.test(name)) continue;
    let value = secret && raw.includes(secret) ? raw.split(secret).join('***') : raw;
    if (value.length > MAX_VALUE_CHARS) value = `${value.slice(0, MAX_VALUE_CHARS)}…[${value.length} chars]`;
    total += name.length + value.length;
    if (total > MAX_PARAMS_CHARS) {
      out['…'] = 'more parameters left out';
      break;
    }
    out[name] = value;
  }
  return JSON.stringify(out);
}

export function auditAction(action: string | undefined): string | null {
  return action === undefined ? null : action.slice(0, MAX_ACTION_CHARS);
}

export interface AuditSink {
  record(entry: AuditRecord): void;
}

export interface AuditLogOptions {
  /** Longest a record waits in memory before it is written. */
  flushMs?: number;
  /** Records written in one batch; a full batch is written at once. */
  maxBatch?: number;
  /** Records kept while the store refuses writes; beyond this the oldest are dropped (and logged). */
  maxBuffered?: number;
}

/**
 * Every API call's audit record, written in batches: one INSERT transaction per batch instead
 * of one per call, so auditing costs the API next to nothing (on SQLite one fsync per batch,
 * not per call). The price: a record reaches the store up to `flushMs` after its answer, and a
 * process killed with -9 loses the records of its last `flushMs` (a clean stop writes them).
 */
export class AuditLog implements AuditSink {
  private buffer: AuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dropped = 0;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly store: Pick<Store, 'audit'>,
    private readonly logger: Logger,
    opts: AuditLogOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 25;
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxBuffered = opts.maxBuffered ?? 100_000;
  }

  record(entry: AuditRecord): void {
    this.buffer.push(entry);
    if (this.buffer.length > this.maxBuffered) {
      this.dropped += this.buffer.length - this.maxBuffered;
      this.buffer.splice(0, this.buffer.length - this.maxBuffered);
    }
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Write everything recorded so far; resolves when it is in the store (or the store refused). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.writeAll());
    return this.writing;
  }

  private async writeAll(): Promise<void> {
    if (this.dropped > 0) {
      this.logger.error({ dropped: this.dropped }, 'audit records dropped: the store refused writes for too long');
      this.dropped = 0;
    }
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch);
      try {
        await this.store.audit.appendAudit(batch);
      } catch (err) {
        // Kept for the next flush (SQLITE_BUSY while an admin command holds the lock, a
        // PostgreSQL failover); the error is logged without the records.
        this.buffer.unshift(...batch);
        this.logger.warn({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code }, pending: this.buffer.length }, 'audit write failed; will retry');
        this.timer ??= setTimeout(() => void this.flush(), Math.max(this.flushMs, 1000)).unref();
        return;
      }
    }
  }

  /** Stop the timer and write what is left. */
  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
