import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one process (`GET /metrics`). API calls are counted by action and result
 * code, worker operations by node and outcome; queue depth and quota use are read from the store
 * when scraped, so they are the same whichever process is asked.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'refreshd_' });

export const apiRequests = new Counter({
  name: 'refreshd_api_requests_total',
  help: 'API calls by action and result code (OK for success).',
  labelNames: ['action', 'code'] as const,
  registers: [registry],
});

export const apiDuration = new Histogram({
  name: 'refreshd_api_request_duration_seconds',
  help: 'API call latency by action, from request to answer.',
  labelNames: ['action'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
  registers: [registry],
});

export const nodeOperations = new Counter({
  name: 'refreshd_node_operations_total',
  help: 'Driver operations on cache nodes by node, driver and outcome (ok, retryable, permanent).',
  labelNames: ['node', 'driver', 'outcome'] as const,
  registers: [registry],
});

export const nodeDuration = new Histogram({
  name: 'refreshd_node_operation_duration_seconds',
  help: 'How long one purge or preload took on a node.',
  labelNames: ['node', 'driver'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** One node's metric series, bound once: labelling a series per outcome hashed its labels each time. */
export interface NodeSeries {
  duration: { observe(seconds: number): void };
  outcomes: Record<'ok' | 'retryable' | 'permanent', { inc(): void }>;
}

const nodeSeries = new Map<string, NodeSeries>();

export function seriesOfNode(node: string, driver: string): NodeSeries {
  const key = `${node}\0${driver}`;
  let s = nodeSeries.get(key);
  if (!s) {
    const of = (outcome: string) => nodeOperations.labels({ node, driver, outcome });
    s = { duration: nodeDuration.labels({ node, driver }), outcomes: { ok: of('ok'), retryable: of('retryable'), permanent: of('permanent') } };
    nodeSeries.set(key, s);
  }
  return s;
}

export const queueDepth = new Gauge({
  name: 'refreshd_queue_depth',
  help: 'Work in the store: items not yet dispatched, attempts pending (free), leased (running).',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const quotaUsed = new Gauge({
  name: 'refreshd_quota_used',
  help: "Paths submitted today (UTC) over all accounts, by product and quota kind.",
  labelNames: ['product', 'kind'] as const,
  registers: [registry],
});

export const webhookDeliveries = new Counter({
  name: 'refreshd_webhook_deliveries_total',
  help: 'Webhook delivery attempts by outcome: delivered, retry (failed, will retry), failed (given up).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
