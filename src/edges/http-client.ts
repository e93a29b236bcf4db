import type { Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { isReservedHeader, isSendableHeaderValue } from '../domain/with-header.js';
import { InFlight, type Flight } from './in-flight.js';

/**
 * The one keep-alive HTTP client every driver uses (undici's dispatcher: ~5x cheaper per request
 * than fetch, measured when it was chosen). The Agent keeps a connection pool per node; `connections` bounds how many
 * requests one node has in flight, which is the per-node concurrency limit.
 */
export interface EdgeHttpOptions {
  connectionsPerNode: number;
  timeoutMs: number;
}

export interface EdgeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text, cut at 4 KiB: drivers only read status lines and short messages. Decoded when first read. */
  readonly text: string;
}

const MAX_TEXT = 4096;
/**
 * Requests in flight on one connection when they may be pipelined (see `EdgeRequest.pipeline`).
 * 8 rather than 4: the 100-URL fan-out cell measured 15.0 ms against 16.6–17.4 (1.51 against
 * 1.66–1.70 × bare) in interleaved runs; Varnish answers a purge in microseconds, so one
 * connection carrying 8 keeps up, and fewer connections mean fewer reads and writes.
 */
const PIPELINE_DEPTH = 8;

/** One request to a node (or an origin). */
export interface EdgeRequest {
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * A short, idempotent request the node answers itself (a purge, a ban): it may go out over
   * HTTP/1.1 pipelining, up to PIPELINE_DEPTH on a connection, instead of one connection per
   * request in flight. Requests then share writes and reads with the others in flight: 300 PURGEs
   * on 3 Varnish took 5.6–5.9 ms and 3.6–3.7 ms of client CPU this way against 10.2 ms and
   * 5.9–6.2 ms on 8 connections per node (docs/benchmarks.md, fan-out). Never for a fetch that
   * may wait on an origin (a preload), which would hold up the requests behind it.
   */
  pipeline?: boolean;
}

export class EdgeHttpClient {
  private readonly agent: Agent;
  /**
   * The same number of requests in flight per node, PIPELINE_DEPTH to a connection (one
   * connection for the default 8), whose writes of one turn go out together (coalescing, below).
   */
  private readonly pipelined: Agent;
  /**
   * Pipelined requests to one node share one connection, so the node answers them in the order
   * they were sent: a probe sent right behind a purge sees the purge done (edges/verify.ts).
   */
  readonly pipelineOrdered: boolean;
  private readonly inFlight = new InFlight();

  constructor(private readonly opts: EdgeHttpOptions = { connectionsPerNode: 8, timeoutMs: 10_000 }) {
    this.agent = new Agent({ connections: opts.connectionsPerNode, keepAliveTimeout: 30_000, pipelining: 1 });
    this.pipelineOrdered = Math.ceil(opts.connectionsPerNode / PIPELINE_DEPTH) <= 1;
    this.pipelined = new Agent({
      connections: Math.max(1, Math.ceil(opts.connectionsPerNode / PIPELINE_DEPTH)), keepAliveTimeout: 30_000, pipelining: PIPELINE_DEPTH,
      connect: coalescing(buildConnector({ timeout: opts.timeoutMs })),
    });
  }

  /** Any absolute http(s) URL: origins, which simulated nodes fetch for preloads. */
  fetchUrl(url: string, req: Omit<EdgeRequest, 'method' | 'path'> & { method?: string }): Promise<EdgeResponse> {
    const u = new URL(url);
    return this.send(u.host, { method: req.method ?? 'GET', path: u.pathname + u.search, headers: req.headers, signal: req.signal, timeoutMs: req.timeoutMs }, u.protocol);
  }

  /**
   * One request through undici's dispatcher with a handler of our own, not `request()`: that
   * wraps every response in a Readable stream and a promise chain, which cost a third of a
   * purge's client CPU (300 PURGEs on 3 Varnish: 8.5 ms of CPU through `request()` and
   * `dump()`, 5.7 ms here; docs/benchmarks.md, fan-out). Only the first 4 KiB of a body is kept.
   */
  send(address: string, req: EdgeRequest, protocol = 'http:'): Promise<EdgeResponse> {
    const { signal } = req;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeout = req.timeoutMs ?? this.opts.timeoutMs;
    const origin = `${protocol}//${address}`;
    return new Promise<EdgeResponse>((resolve, reject) => {
      let status = 0;
      let headers: EdgeResponse['headers'] = {};
      const body: Buffer[] = [];
      let kept = 0;
      let controller: Dispatcher.DispatchController | undefined;
      // undici's own timeouts start once the request is written: a request that never finishes
      // writing (a GET announcing a body it does not have) or never leaves its queue would wait
      // forever and hold its connection. This deadline covers the whole exchange; it and the
      // signal are watched for all requests at once (in-flight.ts).
      const flight: Flight = {
        due: performance.now() + timeout,
        ended: false,
        expire: () => {
          const err = new RequestDeadlineError(timeout);
          controller?.abort(err);
          finish(err);
        },
        abort: (reason) => controller?.abort(reason as Error),
      };
      const finish = (err: Error | null, res?: EdgeResponse) => {
        if (flight.ended) return;
        this.inFlight.end(flight, timeout, signal);
        if (err) reject(err);
        else resolve(res!);
      };
      const handler: Dispatcher.DispatchHandler = {
        // Called again when undici retries a pipelined request on a new connection.
        onRequestStart(c) {
          controller = c;
          if (flight.ended) return c.abort(new RequestDeadlineError(timeout));
          if (signal?.aborted) c.abort(signal.reason);
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          headers = responseHeaders;
        },
        onResponseData(_controller, chunk) {
          // Enough bytes for MAX_TEXT characters of UTF-8, decoded once (a chunk may end mid-character).
          if (kept < MAX_TEXT * 4) {
            body.push(chunk);
            kept += chunk.length;
          }
        },
        onResponseEnd() {
          finish(null, new Answer(status, headers, body));
        },
        onResponseError(_controller, err) {
          finish(err);
        },
      };
      const options: Dispatcher.DispatchOptions = {
        origin, path: wirePath(origin, req.path), method: req.method as Dispatcher.HttpMethod, headers: req.headers, headersTimeout: timeout, bodyTimeout: timeout,
      };
      this.inFlight.start(flight, timeout, signal);
      try {
        refuseUnsendable(req.headers);
        // undici pipelines only requests marked idempotent and not blocking.
        if (req.pipeline) this.pipelined.dispatch({ ...options, idempotent: true, blocking: false }, handler);
        else this.agent.dispatch(options, handler);
      } catch (err) {
        finish(err as Error);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.pipelined.close()]);
  }
}

/**
 * The answer, its body decoded only when a driver reads it: most purge and every probe answer
 * is judged by its status and headers alone (the probe's synthetic page is never read).
 */
class Answer implements EdgeResponse {
  private decoded: string | undefined;

  constructor(readonly status: number, readonly headers: EdgeResponse['headers'], private readonly body: Buffer[]) {}

  get text(): string {
    return (this.decoded ??= (this.body.length === 1 ? this.body[0] : Buffer.concat(this.body)).toString('utf8').slice(0, MAX_TEXT));
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

/** Headers undici would refuse; it is never handed them (see refuseUnsendable). */
export class UnsendableHeaderError extends Error {
  readonly code = 'UND_ERR_INVALID_ARG';
}

/**
 * undici refuses some requests as it takes them (a framing or hop-by-hop header, a control
 * character in a value), and with more than one connection per origin two such refusals left its
 * pool for that origin unable to send anything again (undici 7.30). Requests are checked here
 * instead: the drivers set `host` themselves; every other reserved header (domain/with-header.ts)
 * or bad value is refused before undici sees it.
 */
function refuseUnsendable(headers: EdgeRequest['headers']): void {
  if (!headers) return;
  for (const name in headers) {
    const value = headers[name];
    const lower = name.toLowerCase();
    if (lower === 'host' ? typeof value !== 'string' : isReservedHeader(lower)) throw new UnsendableHeaderError(`header ${name} cannot be sent`);
    const values = typeof value === 'string' ? [value] : value;
    for (const v of values) if (typeof v !== 'string' || !isSendableHeaderValue(v)) throw new UnsendableHeaderError(`invalid value for header ${name}`);
  }
}

/** The whole exchange outlived its time limit (EdgeHttpClient.send's deadline). */
export class RequestDeadlineError extends Error {
  readonly code = 'UND_ERR_DEADLINE_TIMEOUT';
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
  }
}

/** Network-level failures are worth retrying; describe them in one line. */
export function networkError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message ?? ''}`.trim() : String(e.message ?? err);
}

/**
 * A connector whose sockets gather the writes of one turn of the event loop into one system
 * call: pipelined requests started together (a batch of answers read at once frees as many
 * slots) go out in one writev instead of one write each. A write to a loopback socket costs
 * ~14 µs here, half of the executor's CPU per purge; 300 PURGEs on 3 Varnish, 4 deep, took
 * 6.2 ms and 3.8 ms of CPU this way against 6.9 and 4.4 (docs/benchmarks.md, fan-out). undici
 * writes a request with socket.write (and corks around header and body itself); cork() nests,
 * so its own cork/uncork pairs keep working inside ours.
 */
function coalescing(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (socket) gatherWrites(socket);
      (callback as (e: Error | null, s: Socket | null) => void)(err, socket);
    });
}

function gatherWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  socket.write = function (this: Socket, ...args: unknown[]) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
}
