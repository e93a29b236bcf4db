import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { handleRpc, type ApiDeps } from '../api/dispatch.js';
import { observeCall, registerOps } from './ops-routes.js';
import { registerConsole } from './console/index.js';

/** How long an idle client connection stays open. */
export const KEEP_ALIVE_MS = 65_000;
/** pop-core puts every parameter in the GET query: 1,000 URLs of up to 1,024 characters (protocol.md §4.7). */
export const MAX_HEADER_BYTES = 4 * 1024 * 1024;
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The HTTP face of refreshd: the RPC endpoint on `/` (GET and POST, query and form body) and a
 * health check. Bodies are kept raw, since ACS3 signs the exact bytes.
 */
export function buildServer(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per RPC call is logged by the handler below, with its RequestId and outcome.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    serverFactory: (handler) => {
      const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler);
      // Clients keep connections alive; outlive their idle timers to avoid reuse races. Set here:
      // Fastify applies its keepAliveTimeout option only to servers it creates itself, so with
      // this factory the server kept Node's 5 s and reset connections clients were reusing.
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket));
      return server;
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const rpc = async (request: { raw: IncomingMessage; body: unknown; ip: string }, reply: { raw: ServerResponse; hijack(): void }) => {
    const started = performance.now();
    const answer = await handleRpc(
      {
        method: request.raw.method ?? 'GET',
        url: request.raw.url ?? '/',
        headers: request.raw.headers,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        sourceIp: request.ip,
      },
      deps,
    );
    reply.hijack();
    reply.raw.writeHead(answer.status, { 'content-type': answer.contentType, ...answer.headers });
    reply.raw.end(answer.body);
    const ms = performance.now() - started;
    observeCall(answer.action, answer.code, ms / 1000);
    deps.logger.info(
      { requestId: answer.requestId, action: answer.action, code: answer.code, status: answer.status, accessKeyId: answer.accessKeyId, ms: +ms.toFixed(2) },
      'rpc',
    );
  };
  app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/', handler: rpc });
  registerConsole(app);
  registerOps(app, deps.store, deps.logger);
  app.setNotFoundHandler(async (request, reply) => {
    reply.code(404).type('application/json;charset=utf-8');
    return { Code: 'InvalidAction.NotFound', Message: 'Specified api is not found, please check your url and method.', HostId: request.hostname };
  });
  app.setErrorHandler(async (err: { statusCode?: number; code?: string; message: string }, request, reply) => {
    // Framework-level failures (body too large, malformed framing) still answer in Alibaba's shape.
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) deps.logger.error({ err }, 'framework error');
    reply.code(status).type('application/json;charset=utf-8');
    return status === 500
      ? { Code: 'InternalError', Message: 'The request processing has failed due to some unknown error.' }
      : { Code: 'InvalidParameter', Message: `The request is not valid: ${err.code ?? 'bad request'}.` };
  });
  return app;
}

/** Node answers an oversized request line with an empty 431, which every client fails to parse. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify(
    tooLarge
      ? { Code: 'RequestHeaderTooLarge', Message: 'The request line and headers are too large; send the parameters in a POST form body.' }
      : { Code: 'InvalidParameter', Message: 'The HTTP request is malformed.' },
  );
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json;charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
