import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/**
 * An origin of HLS/DASH content for tests, on 127.0.0.1, serving by Host as a CDN origin does:
 * manifests are files under `root` (a host of `hosts` reads its own subdirectory), media are the
 * URLs listed in `media` (`host/path?query`), each answered 200 with a small body. Anything
 * else is 404, so a preload of a URL the expansion got wrong fails. `/slow/MS/<rest>` waits MS ms
 * before serving `<rest>`; `/big/N/<name>.m3u8` is a valid playlist of N bytes. `hits` counts
 * requests per `host/path?query`.
 */
export interface ManifestOrigin {
  url: string;
  port: number;
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startManifestOrigin(opts: { root: string; hosts?: Record<string, string>; media: Iterable<string> }): Promise<ManifestOrigin> {
  const hits = new Map<string, number>();
  const media = new Set(opts.media);
  /** Slow answers not yet due: dropped on close, so a test of a very slow origin does not keep the process alive. */
  const waiting = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const key = `${host}${req.url ?? '/'}`;
    hits.set(key, (hits.get(key) ?? 0) + 1);
    const send = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'public, max-age=3600' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const url = new URL(req.url ?? '/', 'http://origin');
    let path = url.pathname;
    const slow = /^\/slow\/(\d+)(\/.*)$/.exec(path);
    const big = /^\/big\/(\d+)\/[^/]+\.m3u8$/.exec(path);
    if (slow) path = slow[2];
    const serve = () => {
      if (big) return send(200, '#EXTM3U\n' + '#'.repeat(Math.max(0, Number(big[1]) - 9)) + '\n', 'application/vnd.apple.mpegurl');
      if (media.has(key)) return send(200, `media ${key}\n`, 'video/mp4');
      const dir = opts.hosts?.[host] ? join(opts.root, opts.hosts[host]) : opts.root;
      const file = normalize(join(dir, path));
      if (file.startsWith(dir) && existsSync(file) && statSync(file).isFile()) {
        const type = file.endsWith('.mpd') ? 'application/dash+xml' : 'application/vnd.apple.mpegurl';
        return send(200, readFileSync(file, 'utf8'), type);
      }
      send(404, 'not found\n');
    };
    if (slow) {
      const timer = setTimeout(() => (waiting.delete(timer), serve()), Number(slow[1]));
      waiting.add(timer);
    }
    else serve();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () => new Promise((resolve) => {
      for (const t of waiting) clearTimeout(t);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
