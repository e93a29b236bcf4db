import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { makeLogger } from '../../src/app.js';
import type { Outcome } from '../../src/edges/driver.js';
import type { ClaimedAttempt } from '../../src/store/port.js';
import { DROPPED, Executor } from '../../src/worker/executor.js';

describe('Executor', () => {
  const executor = new Executor({ perNodeConcurrency: 4, requestTimeoutMs: 1_000, attemptTimeoutMs: 30_000 }, makeLogger('silent'));
  after(() => executor.close());

  const attempt = (itemId: number, extra: Partial<ClaimedAttempt>): ClaimedAttempt => ({
    itemId, nodeId: 1, lease: 'l', attempts: 0, taskId: '1', objectType: 'file', objectPath: `http://example.com/${itemId}`,
    domain: 'example.com', force: false, withHeader: null, verifyUrls: [], origin: null,
    node: { id: 1, name: 'sim', driver: 'simulated', address: 'simulated/1', group: 'g', area: 'domestic', enabled: true, options: { latencyMs: [0, 0], failureRate: 0 }, createdAt: 0 },
    ...extra,
  });

  it('reports a job it cannot build as a permanent failure, not a retry that can never succeed', async () => {
    const outcomes = new Map<number, Outcome>();
    const all = new Promise<void>((resolve) => {
      executor.run(
        [
          attempt(1, {}),
          attempt(2, { objectPath: '/no-host' }),
          attempt(3, { withHeader: '{not json' }),
        ],
        (c, o) => {
          outcomes.set(c.itemId, o);
          if (outcomes.size === 3) resolve();
        },
      );
    });
    await all;
    assert.equal(outcomes.get(1)?.kind, 'ok');
    for (const id of [2, 3]) {
      const o = outcomes.get(id)!;
      assert.equal(o.kind, 'permanent', `item ${id}: ${JSON.stringify(o)}`);
      assert.equal(o.kind === 'permanent' && o.description, 'Internal Error');
      assert.match(o.kind === 'permanent' ? o.error : '', /^bad job: /);
    }
  });

  it('drops the attempts of canceled tasks still waiting for their node; the running one finishes; other tasks run', async () => {
    // The node's answer is taken as it is (`ack`): a plain HTTP server has no cache to probe.
    const executor = new Executor({ perNodeConcurrency: 4, requestTimeoutMs: 1_000, attemptTimeoutMs: 30_000 }, makeLogger('silent'), () => 'ack');
    // A node that takes 200 ms per purge, one at a time, answering as refreshd's VCL does (X-Varnish).
    const purged: string[] = [];
    const node = createServer((req, res) => {
      purged.push(req.url!);
      setTimeout(() => res.writeHead(200, { 'content-length': '0', 'x-varnish': '1' }).end(), 200);
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    try {
      const address = `127.0.0.1:${(node.address() as AddressInfo).port}`;
      const on = (itemId: number, taskId: string) =>
        attempt(itemId, { taskId, force: true, nodeId: 7, node: { id: 7, name: 'slow', driver: 'varnish', address, group: 'g', area: 'domestic', enabled: true, options: { concurrency: 1 }, createdAt: 0 } });
      const attempts = [on(1, 'A'), on(2, 'A'), on(3, 'B'), on(4, 'A'), on(5, 'A')];
      const outcomes = new Map<number, Outcome>();
      const order: number[] = [];
      const all = new Promise<void>((resolve) => {
        executor.run(attempts, (c, o) => {
          outcomes.set(c.itemId, o);
          order.push(c.itemId);
          if (outcomes.size === attempts.length) resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 50));
      executor.drop(['A', 'C']);
      await all;
      assert.equal(outcomes.get(1)!.kind, 'ok', 'already running: it finishes');
      assert.equal(outcomes.get(3)!.kind, 'ok', 'another task runs on');
      for (const id of [2, 4, 5]) assert.equal(outcomes.get(id), DROPPED, `item ${id}`);
      // Back at once, while item 1 still held the node's one slot: not after waiting their turn.
      assert.deepEqual(order, [2, 4, 5, 1, 3]);
      assert.deepEqual(purged, ['/1', '/3'], 'the node never saw the dropped ones');
      executor.drop(['A']); // nothing of A is left: nothing happens
    } finally {
      node.close();
      await executor.close();
    }
  });
});
