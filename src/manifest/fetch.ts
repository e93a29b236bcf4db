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
    const u = new URL(url);
    const target = origin.replace(/\/+$/, '') + u.pathname + u.search;
    const { maxBytes, timeoutMs, signal } = this.opts;
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
      res.body.destroy();
      throw fail(`the origin answered HTTP ${res.statusCode}`);
    }
    const announced = Number(res.headers['content-length']);
    if (announced > maxBytes) {
      res.body.destroy();
      throw fail(`larger than ${maxBytes} bytes (manifests.maxBytes)`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.body.destroy();
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

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ? `${e.code}: ${e.message ?? ''}`.trim() : String(e.message ?? err);
}
