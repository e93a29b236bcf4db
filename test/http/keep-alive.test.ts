import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A client's idle keep-alive connection stays open well past Node's 5 s default, so a client
 * that reuses it after a pause is answered instead of reset (seen as ECONNRESET in clients
 * that paused for a few seconds between calls).
 */
let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

function answers(socket: Socket, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer) => {
      text += c.toString('latin1');
      if ((text.match(/^HTTP\/1\.1 /gm) ?? []).length >= count && /\r\n\r\n[\s\S]*\}$/.test(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`connection closed after: ${JSON.stringify(text.slice(0, 200))}`)));
  });
}

describe('keep-alive', () => {
  it('an idle connection is still served after 6 seconds', async () => {
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const request = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n';
    socket.write(request);
    assert.match(await answers(socket, 1), /^HTTP\/1\.1 200/);
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal(socket.destroyed || socket.readyState !== 'open', false, 'the server kept the connection');
    const second = answers(socket, 1);
    socket.write(request);
    assert.match(await second, /^HTTP\/1\.1 200/);
    socket.destroy();
  });
});
