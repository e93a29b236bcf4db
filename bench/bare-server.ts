/**
 * The describe benchmark's bare HTTP server: the floor under refreshd's API on this machine. It
 * is fastify, as refreshd's server is, takes the same requests (GET with a query, POST with a
 * form body, read whole as refreshd reads them) and answers the way refreshd's RPC route does
 * (the reply hijacked, one writeHead and end, the same security headers), but with no parsing
 * of parameters, no signature, no store: each answer is the next of a set of canned bodies
 * that the bench captured from refreshd's own answers to the same scenario, so the bytes on
 * the wire are the same size.
 *
 *   node --import tsx bench/bare-server.ts --port N      (prints "listening on 127.0.0.1:N")
 *
 * `PUT /_bench/canned` with a JSON array of strings replaces the bodies.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { SECURITY_HEADERS } from '../src/http/error-answers.js';

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '0' } } });

const app = Fastify({ logger: false, bodyLimit: 64 * 2 ** 20 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

/** A RequestId header of the length refreshd sends (a UUID), so the headers weigh the same too. */
const REQUEST_ID = '5E2A1C3B-0000-4000-8000-000000000000';

let bodies: Buffer[] = [Buffer.from('{}')];
let next = 0;

app.put('/_bench/canned', async (request) => {
  const list = JSON.parse((request.body as Buffer).toString('utf8')) as string[];
  if (!Array.isArray(list) || list.length === 0) throw new Error('canned bodies: a non-empty JSON array of strings');
  bodies = list.map((b) => Buffer.from(b));
  next = 0;
  return { bodies: bodies.length };
});

app.route({
  method: ['GET', 'POST'],
  url: '/',
  handler: async (_request, reply) => {
    const body = bodies[next++ % bodies.length];
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/json;charset=utf-8', ...SECURITY_HEADERS, 'x-acs-request-id': REQUEST_ID });
    reply.raw.end(body);
  },
});

const address = await app.listen({ host: '127.0.0.1', port: Number(args.port) });
process.stdout.write(`listening on ${address.replace('http://', '')}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void app.close().then(() => process.exit(0)));
