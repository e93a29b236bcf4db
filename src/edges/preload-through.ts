import type { EdgeJob, EdgeNode, Outcome } from './driver.js';
import { networkError, type EdgeHttpClient } from './http-client.js';

/**
 * Preload by fetching through the node: it stores what the origin answers. Shared by the GET-based
 * drivers (nginx, squid, ats). The edge's own status stands in for the origin's: 5xx means the
 * origin failed (the task item fails like Alibaba's), other non-2xx means there is nothing to store.
 */
export async function preloadThrough(http: EdgeHttpClient, node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(job.headers)) {
    // The node keys its cache on Host: the domain decides it, not a WithHeader entry.
    if (name.toLowerCase() !== 'host') headers[name] = values;
  }
  headers.host = job.host;
  try {
    const res = await http.send(node.address, { method: 'GET', path: job.path, headers, signal });
    if (res.status >= 200 && res.status < 300) return { kind: 'ok', detail: `fetched ${res.status}` };
    if (res.status >= 500) {
      return { kind: 'permanent', error: `origin answered ${res.status} through ${node.name}`, description: 'Origin Return StatusCode 5XX' };
    }
    return { kind: 'permanent', error: `origin answered ${res.status} through ${node.name}: nothing to preload`, description: 'Internal Error' };
  } catch (err) {
    // Refused before it was sent (a header that cannot go on the wire): retrying cannot help.
    if ((err as { code?: string }).code === 'UND_ERR_INVALID_ARG') {
      return { kind: 'permanent', error: `preload on ${node.name} not sent: ${networkError(err)}`, description: 'Internal Error' };
    }
    return { kind: 'retryable', error: `preload on ${node.name}: ${networkError(err)}` };
  }
}
