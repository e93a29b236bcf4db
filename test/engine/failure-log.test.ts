import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { makeLogger } from '../../src/app.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer } from '../helpers/server.js';
import { untilNodesSettled } from '../helpers/settle.js';

/**
 * Node failures in the log: every failed attempt with its task, item, node and reason, `warn`
 * while it will be retried and `error` when final; repeats of one cause are folded, so a dead
 * node (here: two real varnish-driver nodes on a port nobody listens on) cannot flood the log.
 */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('node failures in the log', () => {
  it('are logged with task, item, node and reason, warn then error, repeats folded', async () => {
    let logs = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += chunk), done()) });
    const server = await startTestServer(
      { engine: { simulatedNodes: 0, maxAttempts: 2, retryBaseMs: 20, pollMs: 20, requestTimeoutMs: 1_000 } },
      { worker: true, logger: makeLogger('info', sink) },
    );
    try {
      const port = await closedPort();
      for (const name of ['dead-1', 'dead-2']) {
        await server.store.fleet.addNode({ name, driver: 'varnish', address: `127.0.0.1:${port}`, group: 'default', area: 'domestic', enabled: true, options: {}, createdAt: 0 });
      }
      await server.addDomain('fail.example.com');
      const paths = Array.from({ length: 6 }, (_, i) => `http://fail.example.com/${i}.css`);
      const taskId = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: paths.join('\n') })).json.RefreshTaskId as string;
      // An item is Failed as soon as one node gives up; wait for every node's attempt to finish,
      // or the other node's last failures would not be logged yet.
      const items = await untilNodesSettled(server.url, taskId, 15_000);
      assert.deepEqual(items.map((i) => i.Nodes.map((n) => n.State).join()), Array(6).fill('Failed,Failed'), 'every node attempt failed for good');
    } finally {
      await server.close();
    }
    const lines = logs.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.node);
    const full = lines.filter((l) => l.repeats === undefined);
    const folded = lines.filter((l) => l.repeats !== undefined);
    // One full line per node and cause: a warn for the first attempt, an error for the last.
    assert.deepEqual(full.map((l) => `${l.level} ${l.node} ${l.attempt}`).sort(), ['40 dead-1 1', '40 dead-2 1', '50 dead-1 2', '50 dead-2 2']);
    for (const l of full) {
      assert.match(l.task, /^\d{11}$/);
      assert.match(l.item, /^http:\/\/fail\.example\.com\/\d\.css$/);
      assert.match(l.reason, /ECONNREFUSED/);
      assert.equal(l.driver, 'varnish');
    }
    assert.ok(full.filter((l) => l.level === 40).every((l) => l.msg === 'node attempt failed; will retry' && l.retryInMs >= 0));
    assert.ok(full.filter((l) => l.level === 50).every((l) => l.msg === 'node attempt failed for good' && /^gave up after 2 attempts/.test(l.reason)));
    // The other five items' failures of each kind on each node: counted, summed up once.
    assert.deepEqual(folded.map((l) => `${l.level} ${l.node} ${l.repeats}`).sort(), ['40 dead-1 5', '40 dead-2 5', '50 dead-1 5', '50 dead-2 5']);
  });
});
