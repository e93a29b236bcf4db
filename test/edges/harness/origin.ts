import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small origin for edge tests, on 127.0.0.1. Every path answers 200 with
 * `Cache-Control: public, max-age=3600` and a body naming the path and a per-path version;
 * `X-Origin-Seq` counts fetches. Special paths: `/status/NNN/…` answers that status,
 * `/slow/MS/…` waits MS ms first, `/vary/…` adds `Vary: Accept-Encoding`, `/tagged/NAME/VALUE/…`
 * adds the header NAME (e.g. cache-tag) with the URL-decoded VALUE (cache tags).
 */
export interface Origin {
  url: string;
  port: number;
  /** Fetches per path (path and query). */
  hits: Map<string, number>;
  /** Change what a path serves next (its body becomes `<path> v<version>`). */
  bump(path: string): void;
  close(): Promise<void>;
}

export async function startOrigin(port = 0): Promise<Origin> {
  const hits = new Map<string, number>();
  const versions = new Map<string, number>();
  let seq = 0;
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    seq++;
    const status = /^\/status\/(\d{3})\//.exec(path);
    const slow = /^\/slow\/(\d+)\//.exec(path);
    const reply = () => {
      const code = status ? Number(status[1]) : 200;
      const body = `${path} v${versions.get(path) ?? 1}\n`;
      const headers: Record<string, string> = {
        'content-type': 'text/plain',
        'content-length': String(Buffer.byteLength(body)),
        'x-origin-seq': String(seq),
      };
      if (code === 200) headers['cache-control'] = 'public, max-age=3600';
      if (path.startsWith('/vary/')) headers.vary = 'Accept-Encoding';
      const tagged = /^\/tagged\/([a-z-]+)\/([^/]+)\//.exec(path);
      if (tagged) headers[tagged[1]] = decodeURIComponent(tagged[2]);
      res.writeHead(code, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (slow) setTimeout(reply, Number(slow[1]));
    else reply();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    hits,
    bump: (path) => versions.set(path, (versions.get(path) ?? 1) + 1),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
