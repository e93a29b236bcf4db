import { Agent, request } from 'undici';
import { ManifestError } from './errors.js';

/**
 * Reads manifests from a domain's origin, as a cache node would on a miss: `<origin><path>` with
 * the domain as Host. Every fetch is bounded: by the expansion's one deadline (`signal`, shared
 * by all of a call's fetches), by undici's header and body timeouts, and by a size cap read as
 * the body arrives. Redirects are not followed: a cache would store the redirect, not its target.
 * One keep-alive pool per expansion, closed with it.
 */
export class OriginFetcher {
  private readonly agent = new Agent({ connections: 8, keepAliveTimeout: 2_000 });

  constructor(private readonly opts: { maxBytes: number; timeoutMs: number; signal: AbortSignal }) {}

  /** The manifest at `url` (a URL of `domain`'s), fetched from the domain's `origin` base URL. */
  async text(origin: string, url: string): Promise<string> {
    // Each fetch has its own controller, tied to the call's deadline only while it runs: undici
    // keeps listening to a request's signal after its body was cut short, and a deadline firing
    // after the answer would then raise an error nobody catches.
    const own = new AbortController();
    const cut = () => own.abort(this.opts.signal.reason);
    if (this.opts.signal.aborted) cut();
    else this.opts.signal.addEventListener('abort', cut, { once: true });
    try {
      return await this.read(origin, url, own.signal);
    } finally {
      this.opts.signal.removeEventListener('abort', cut);
    }
  }

  private async read(origin: string, url: string, signal: AbortSignal): Promise<string> {
    const u = new URL(url);
    const target = origin.replace(/\/+$/, '') + u.pathname + u.search;
    const { maxBytes, timeoutMs } = this.opts;
    const fail = (why: string) => new ManifestError('fetch', `${url}: ${why}`);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(target, {
        dispatcher: this.agent, method: 'GET', headers: { host: u.hostname, accept: '*/*' }, signal,
        headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
    } catch (err) {
      throw fail(signal.aborted ? `no answer from the origin within ${timeoutMs} ms` : `origin unreachable (${describe(err)})`);
    }
    if (res.statusCode < 200 || res.statusCode > 299) {
      discard(res.body);
      throw fail(`the origin answered HTTP ${res.statusCode}`);
    }
    const announced = Number(res.headers['content-length']);
    if (announced > maxBytes) {
      discard(res.body);
      throw fail(`larger than ${maxBytes} bytes (manifests.maxBytes)`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          discard(res.body);
          throw fail(`larger than ${maxBytes} bytes (manifests.maxBytes)`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if (err instanceof ManifestError) throw err;
      throw fail(signal.aborted ? `not read completely within ${timeoutMs} ms` : `body not read (${describe(err)})`);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

/** Drop a body not read to its end: undici reports that as an error, which nothing else would handle. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message ?? ''}`.trim() : String(e.message ?? err);
}
