import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The RPC route sends the answers made in one turn of the event loop together (http/server.ts,
 * answerSender): each must still reach its own caller, whole, with its own RequestId, and a
 * caller gone before its answer is sent must not keep the others' answers back.
 */
let server: TestServer;
const tasks: string[] = [];
before(async () => {
  server = await startTestServer();
  await server.addDomain('burst.example.com');
  for (let i = 0; i < 5; i++) {
    const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: `burst.example.com/${i}` });
    assert.equal(res.status, 200, res.text);
    tasks.push(res.json.RefreshTaskId);
  }
});
after(() => server.close());

describe('answers sent in bursts', () => {
  it('reach their own callers: 80 calls at once, answers and errors mixed', async () => {
    const calls = Array.from({ length: 80 }, (_, i) => {
      const id = i % 7 === 6 ? 'not-an-id' : tasks[i % tasks.length];
      return rpc(server.url, 'DescribeRefreshTaskById', { TaskId: id }).then((res) => ({ id, res }));
    });
    for (const { id, res } of await Promise.all(calls)) {
      assert.equal(res.headers.get('x-acs-request-id'), res.json.RequestId);
      if (id === 'not-an-id') assert.deepEqual([res.status, res.json.Code], [400, 'InvalidTaskId.Malformed'], res.text);
      else assert.deepEqual([res.status, res.json.Tasks.map((t: any) => t.TaskId)], [200, [id]], res.text);
    }
  });

  it('a caller that hung up before its answer does not hold back the others', async () => {
    const gone = Array.from({ length: 10 }, () => {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.once('connect', () => {
        socket.write(`GET /?Action=DescribeRefreshTaskById&TaskId=${tasks[0]} HTTP/1.1\r\nHost: x\r\n\r\n`);
        socket.destroy();
      });
      return socket;
    });
    const answered = await Promise.all(tasks.map((id) => rpc(server.url, 'DescribeRefreshTaskById', { TaskId: id })));
    assert.deepEqual(answered.map((r) => r.json.Tasks?.[0]?.TaskId), tasks);
    assert.ok(gone.every((s) => s.destroyed));
    assert.equal((await rpc(server.url, 'DescribeRefreshQuota', {})).status, 200, 'the server still answers');
  });
});
