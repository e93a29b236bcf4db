import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { utcDay } from '../domain/quota.js';
import { apiDuration, apiRequests, queueDepth, quotaUsed, registry } from '../observability/metrics.js';
import { PRODUCTS } from '../spec/index.js';
import type { Store } from '../store/port.js';

/** Known action names: metric labels never carry what a caller typed into `Action`. */
const ACTIONS = new Set(PRODUCTS.flatMap((p) => Object.keys(p.actions)));

/** The metrics' children per label set, looked up once: labels are known actions and catalogue codes, so this stays small. */
const counters = new Map<string, { inc(): void }>();
const durations = new Map<string, { observe(v: number): void }>();

/** Count one answered RPC call (the rpc route calls this for every answer). */
export function observeCall(action: string | undefined, code: string | undefined, seconds: number): void {
  const label = action !== undefined && ACTIONS.has(action) ? action : 'other';
  const key = `${label} ${code ?? 'OK'}`;
  let counter = counters.get(key);
  if (!counter) counters.set(key, (counter = apiRequests.labels({ action: label, code: code ?? 'OK' })));
  counter.inc();
  let duration = durations.get(label);
  if (!duration) durations.set(label, (duration = apiDuration.labels({ action: label })));
  duration.observe(seconds);
}

/**
 * Health and metrics for operators and orchestrators:
 * - `/healthz`: the process answers (liveness);
 * - `/readyz`: the store answers and its schema is the one this build expects (readiness);
 * - `/metrics`: Prometheus text; queue depth and today's quota use are read from the store at
 *   scrape time, so every process reports the same shared numbers.
 */
export function registerOps(app: FastifyInstance, store: Pick<Store, 'ops'>, logger: Logger, opts: { metrics: boolean } = { metrics: true }): void {
  if (opts.metrics) registerMetrics(app, store, logger);
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      const h = await store.ops.health();
      if (h.schemaVersion !== h.expectedVersion) {
        reply.code(503);
        return { status: 'not ready', reason: `store schema version ${h.schemaVersion}, this build expects ${h.expectedVersion}` };
      }
      return { status: 'ready', schemaVersion: h.schemaVersion };
    } catch (err) {
      logger.warn({ err }, 'readiness check: store unreachable');
      reply.code(503);
      return { status: 'not ready', reason: 'store unreachable' };
    }
  });

}

/**
 * `/metrics` alone, for the API port or for its own listener (`metricsListen`): the quota gauges
 * sum every tenant's use, which is for operators, not for whoever reaches the API port.
 */
export function registerMetrics(app: FastifyInstance, store: Pick<Store, 'ops'>, logger: Logger): void {
  app.get('/metrics', async (_request, reply) => {
    try {
      const q = await store.ops.queueStats();
      queueDepth.set({ kind: 'undispatched' }, q.undispatched);
      queueDepth.set({ kind: 'pending' }, q.pending);
      queueDepth.set({ kind: 'leased' }, q.leased);
      quotaUsed.reset();
      for (const u of await store.ops.usageTotals(utcDay(Date.now()))) quotaUsed.set({ product: u.product, kind: u.kind }, u.used);
    } catch (err) {
      // Still serve the process's own metrics; the store gauges keep their last values.
      logger.warn({ err }, 'metrics: could not read the store');
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
