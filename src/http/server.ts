import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { handleRpc, type ApiDeps, type RpcAnswer } from '../api/handle-rpc.js';
import type { HttpLimits } from '../config/config.js';
import { ApiError, type ErrorCode } from '../spec/errors.js';
import { answerClientError, apiErrorBody, SECURITY_HEADERS } from './error-answers.js';
import { observeCall, registerOps } from './ops-routes.js';
import { registerConsole } from './console/index.js';

/**
 * The HTTP face of refreshd: the RPC endpoint on `/` (GET and POST, query and form body), the
 * console, health and (unless moved with `metricsListen`) metrics. Bodies are kept raw, since
 * ACS3 signs the exact bytes.
 *
 * Before a request is authenticated it may only cost bounded work: the request line and headers,
 * the body, the parameter count and the time to send them all have ceilings (config `http`), and
 * so does the number of open connections. Every refusal is a catalogue error with a Code.
 */
export function buildServer(deps: ApiDeps, opts: { metrics: boolean } = { metrics: true }): FastifyInstance {
  const limits = deps.config.http;
  const app = Fastify({
    // Fastify's own info lines ("Server listening at") would double the start-up line the CLI writes.
    loggerInstance: (deps.logger.isLevelEnabled('info') ? deps.logger.child({}, { level: 'warn' }) : deps.logger) as FastifyBaseLogger,
    // One line per RPC call is logged by the handler below, with its RequestId and outcome.
    logController: new LogController({ disableRequestLogging: true }),
    // Nothing logs through request.log (the handler logs with the RequestId itself), so no
    // per-request child logger is made: fastify would build one for every call.
    childLoggerFactory: (logger) => logger,
    bodyLimit: limits.maxBodyBytes,
    // Fastify applies its own timeout options only to a server it builds, not to serverFactory's.
    serverFactory: (handler) => limitedServer(limits, handler),
    // A URL the router cannot decode, or a bad Content-Type, refused before any route or hook.
    frameworkErrors: (err, _request, reply) => {
      const body = apiErrorBody(new ApiError(frameworkCode(err), { vars: { Name: 'Request' } }));
      const raw = reply.raw;
      raw.writeHead(body.status, { 'content-type': body.contentType, 'x-acs-request-id': body.requestId, ...SECURITY_HEADERS });
      raw.end(body.body);
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  const send = answerSender(deps.logger);
  const rpc = async (request: { raw: IncomingMessage; body: unknown; ip: string }, reply: { raw: ServerResponse; hijack(): void }) => {
    if (isBrowserVisit(request.raw)) {
      reply.hijack();
      reply.raw.writeHead(302, { location: '/console/', 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('The web console is at /console/\n');
      return;
    }
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
    send(reply.raw, answer);
    const ms = performance.now() - started;
    observeCall(answer.action, answer.code, ms / 1000);
    // Checked first, so a server logging at warn builds no log object per call.
    if (deps.logger.isLevelEnabled('info')) deps.logger.info(
      { requestId: answer.requestId, action: answer.action, code: answer.code, status: answer.status, accessKeyId: answer.accessKeyId, ms: +ms.toFixed(2) },
      'rpc',
    );
  };
  app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/', handler: rpc });
  registerConsole(app);
  registerOps(app, deps.store, deps.logger, opts);
  app.setNotFoundHandler(async (_request, reply) => {
    const body = apiErrorBody(new ApiError('InvalidAction.NotFound'));
    reply.code(body.status).type(body.contentType).header('x-acs-request-id', body.requestId);
    return body.body;
  });
  app.setErrorHandler(async (err: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    // Framework-level refusals (body too large, malformed framing, a bad URL) answer in Alibaba's
    // shape with a catalogue Code, never with the framework's own code or message.
    const code = frameworkCode(err);
    if (code === 'InternalError') deps.logger.error({ err }, 'framework error');
    const body = apiErrorBody(new ApiError(code, code === 'InvalidParameter' ? { vars: { Name: 'Request' } } : {}));
    reply.code(body.status).type(body.contentType).header('x-acs-request-id', body.requestId);
    return body.body;
  });
  return app;
}

/**
 * Sends answers at the end of the current turn of the event loop, all those made in it back to
 * back. Each send may have to wake the client's process; on a VM that wake-up costs the sender
 * tens of µs when the client sleeps, which it does between answers whenever refreshd is the
 * slower side (docs/benchmarks.md, "Where a Describe call's time goes"). Answers sent in one
 * burst wake it once. An answer waits at most for the other calls of its turn.
 */
function answerSender(logger: ApiDeps['logger']): (res: ServerResponse, answer: RpcAnswer) => void {
  let batch: { res: ServerResponse; answer: RpcAnswer }[] = [];
  const sendAll = () => {
    const now = batch;
    batch = [];
    for (const { res, answer } of now) {
      try {
        res.writeHead(answer.status, { 'content-type': answer.contentType, ...SECURITY_HEADERS, ...answer.headers });
        res.end(answer.body);
      } catch (err) {
        // One answer that cannot be written (its socket gone) must not keep the others back.
        logger.warn({ err, requestId: answer.requestId }, 'answer not sent');
        res.destroy();
      }
    }
  };
  return (res, answer) => {
    if (batch.push({ res, answer }) === 1) setImmediate(sendAll);
  };
}

function frameworkCode(err: { statusCode?: number; code?: string }): ErrorCode {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) return 'RequestBodyTooLarge';
  if (err.statusCode === 408) return 'RequestTimeout';
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return 'InvalidParameter';
  return 'InternalError';
}

/**
 * The node:http server Fastify runs on, with refreshd's ceilings: header bytes, timeouts for the
 * headers and the whole request (checked every second, not Node's default 30 s), keep-alive, and
 * the number of connections.
 */
function limitedServer(limits: HttpLimits, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: 1_000,
    },
    handler,
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', answerClientError);
  return server;
}

/**
 * Someone opened the server's address in a browser: a GET asking for HTML, with neither an
 * `Action` parameter nor ACS3 headers. API clients never ask for HTML, so they still get
 * Alibaba's answers (a missing Action is MissingParameter, as before).
 */
function isBrowserVisit(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || !/\btext\/html\b/.test(req.headers.accept ?? '')) return false;
  if (req.headers['x-acs-action'] || req.headers.authorization) return false;
  const query = (req.url ?? '/').split('?')[1] ?? '';
  return !new URLSearchParams(query).has('Action');
}
