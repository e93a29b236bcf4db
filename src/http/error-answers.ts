import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody, renderError } from '../protocol/serialize.js';
import { ApiError, type ErrorCode } from '../spec/errors.js';

/** On every answer: a browser must never guess a JSON or XML body into HTML. */
export const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/**
 * An error answer for a request that never reached an action (unknown path, a framework or
 * socket-level refusal): the catalogue's Code and message with a RequestId, in JSON.
 */
export function apiErrorBody(err: ApiError): { status: number; contentType: string; body: string; requestId: string } {
  const requestId = randomUUID().toUpperCase();
  const rendered = renderError(errorBody(err, requestId, 'cdn.aliyuncs.com', 'Cdn'), 'JSON');
  return { status: err.status, contentType: rendered.contentType, body: rendered.body, requestId };
}

/**
 * Node's own answers to a request it cannot parse (an oversized request line, malformed framing,
 * a request that took too long) are an empty body or none at all, which every client fails to
 * parse. They are answered here instead, with a catalogue Code, and the connection is closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'RequestHeaderTooLarge' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'RequestTimeout' : 'InvalidParameter';
  const answer = apiErrorBody(new ApiError(code, code === 'InvalidParameter' ? { vars: { Name: 'Request' }, detail: 'The HTTP request is malformed.' } : {}));
  const head = [
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}`,
    `content-type: ${answer.contentType}`,
    `content-length: ${Buffer.byteLength(answer.body)}`,
    `x-acs-request-id: ${answer.requestId}`,
    ...Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${v}`),
    'connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${answer.body}`);
}
