import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The web console: static HTML, one stylesheet and plain ES modules under `/console`, no build
 * step. The browser signs every call itself (legacy RPC HMAC-SHA1 via WebCrypto) and talks only
 * to the RPC endpoint `/` on the same origin, so the server side is nothing but file serving.
 *
 * The assets live in `src/http/console/assets/`. tsc compiles only the `.ts` files into `dist/`,
 * so when this module runs from `dist/http/console/` it falls back to the sources' assets.
 */

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The page may load only its own files and call only its own origin; nothing may frame it. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  // Assets are small and change with upgrades: always revalidate (the ETag makes that cheap).
  'cache-control': 'no-cache',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Where the assets are: next to this module (sources, tsx) or back in src/ (compiled dist/). */
export function consoleAssetDir(): string {
  const candidates = [
    fileURLToPath(new URL('./assets/', import.meta.url)),
    fileURLToPath(new URL('../../../src/http/console/assets/', import.meta.url)),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`console assets not found; looked in ${candidates.join(' and ')}`);
  return found;
}

/** Read every servable file once: a fixed allow-list, so no request path ever reaches the disk. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    if (!type || !/^[a-z0-9][a-z0-9.-]*$/.test(name)) continue;
    const body = readFileSync(join(dir, name));
    const etag = `"${body.length.toString(16)}-${fnv1a(body)}"`;
    assets.set(name, { body, type, etag });
  }
  return assets;
}

function fnv1a(buf: Buffer): string {
  let h = 0x811c9dc5;
  for (const byte of buf) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h.toString(16);
}

const registered = new WeakSet<FastifyInstance>();

/**
 * Serve the console under `/console/` (and redirect `/console` there so relative module URLs
 * resolve). Safe to call more than once on the same app: later calls do nothing.
 */
export function registerConsole(app: FastifyInstance): void {
  if (registered.has(app)) return;
  registered.add(app);
  const assets = loadAssets(consoleAssetDir());

  const send = (reply: FastifyReply, ifNoneMatch: string | undefined, asset: Asset) => {
    reply.headers(SECURITY_HEADERS).header('etag', asset.etag);
    if (ifNoneMatch === asset.etag) return reply.code(304).send();
    return reply.code(200).type(asset.type).send(asset.body);
  };
  const notFound = (reply: FastifyReply) =>
    reply.code(404).headers(SECURITY_HEADERS).type('text/plain; charset=utf-8').send('Not found: the console has no such file.\n');

  app.get('/console', async (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console/', async (request, reply) => {
    const index = assets.get('index.html');
    return index ? send(reply, request.headers['if-none-match'], index) : notFound(reply);
  });
  app.get<{ Params: { name: string } }>('/console/:name', async (request, reply) => {
    const asset = assets.get(request.params.name);
    return asset ? send(reply, request.headers['if-none-match'], asset) : notFound(reply);
  });
}
