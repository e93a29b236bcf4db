import { Agent, type Dispatcher } from 'undici';

/**
 * The one keep-alive HTTP client every driver uses (undici: ~5x cheaper per request than fetch,
 * research/deps.md §4). The Agent keeps a connection pool per node; `connections` bounds how many
 * requests one node has in flight, which is the per-node concurrency limit.
 */
export interface EdgeHttpOptions {
  connectionsPerNode: number;
  timeoutMs: number;
}

export interface EdgeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text, cut at 4 KiB: drivers only read status lines and short messages. */
  text: string;
}

export class EdgeHttpClient {
  private readonly agent: Agent;

  constructor(private readonly opts: EdgeHttpOptions = { connectionsPerNode: 8, timeoutMs: 10_000 }) {
    this.agent = new Agent({ connections: opts.connectionsPerNode, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  /** Any absolute http(s) URL: origins, which simulated nodes fetch for preloads. */
  fetchUrl(url: string, req: { method?: string; headers?: Record<string, string | string[]>; signal?: AbortSignal; timeoutMs?: number }): Promise<EdgeResponse> {
    const u = new URL(url);
    return this.send(u.host, { method: req.method ?? 'GET', path: u.pathname + u.search, headers: req.headers, signal: req.signal, timeoutMs: req.timeoutMs }, u.protocol);
  }

  async send(
    address: string,
    req: { method: string; path: string; headers?: Record<string, string | string[]>; signal?: AbortSignal; timeoutMs?: number },
    protocol = 'http:',
  ): Promise<EdgeResponse> {
    const timeout = req.timeoutMs ?? this.opts.timeoutMs;
    const origin = `${protocol}//${address}`;
    const res = await this.agent.request({
      origin,
      path: wirePath(origin, req.path),
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      signal: req.signal,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    let text = '';
    for await (const chunk of res.body) {
      if (text.length < 4096) text += chunk.toString();
    }
    return { status: res.statusCode, headers: res.headers, text: text.slice(0, 4096) };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** RFC 3986 path and query characters, which the WHATWG URL parser leaves as they are. */
const PLAIN = /^\/[\w\-.~!$&()*+,;=:@%/]*(?:\?[\w\-.~!$&()*+,;=:@%/?]+)?$/;
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/**
 * The path undici puts on the wire for `origin + path`: what `request(url)` sends, the parsed
 * URL's pathname and search (dot segments resolved, unsafe characters percent-encoded, an empty
 * query or a fragment dropped). Parsing a URL per request was a fifth of a purge's client CPU
 * (docs/benchmarks.md, fan-out), so a plain path, which parsing would not change, skips it.
 */
export function wirePath(origin: string, path: string): string {
  const q = path.indexOf('?');
  if (PLAIN.test(path) && !DOT_SEGMENT.test(q < 0 ? path : path.slice(0, q))) return path;
  const url = new URL(origin + path);
  return url.search ? url.pathname + url.search : url.pathname;
}

/** Network-level failures are worth retrying; describe them in one line. */
export function networkError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message ?? ''}`.trim() : String(e.message ?? err);
}
