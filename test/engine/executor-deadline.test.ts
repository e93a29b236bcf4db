import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Outcome } from '../../src/edges/driver.js';
import type { ClaimedAttempt } from '../../src/store/port.js';
import { Executor } from '../../src/worker/executor.js';

const trickles = new Set<NodeJS.Timeout>();

/** A node that answers every request with headers and then a byte every 50 ms, never ending. */
function trickling(): Server {
  return createServer((_req, res) => {
    res.writeHead(200);
    const t = setInterval(() => res.write('.'), 50);
    trickles.add(t);
    res.on('close', () => clearInterval(t));
  });
}

function attempt(n: number, address: string, overrides: Partial<ClaimedAttempt> = {}): ClaimedAttempt {
  return {
    itemId: n, nodeId: 1, lease: `l${n}`, attempts: 0, taskId: '1', objectType: 'file', objectPath: `http://a.example.com/${n}`,
    domain: 'a.example.com', force: true, withHeader: null, verifyUrls: [], origin: null,
    node: { id: 1, name: 'edge-1', driver: 'varnish', address, group: 'default', area: 'domestic', enabled: true, options: { concurrency: 1 }, createdAt: 0 },
    ...overrides,
  };
}

function runAll(executor: Executor, attempts: ClaimedAttempt[]): Promise<Map<number, Outcome>> {
  return new Promise((resolve) => {
    const seen = new Map<number, Outcome>();
    executor.run(attempts, (c, o) => {
      seen.set(c.itemId, o);
      if (seen.size === attempts.length) resolve(seen);
    });
  });
}

describe('Executor: every attempt has an overall deadline', () => {
  let server: Server;
  let address = '';
  before(async () => {
    server = trickling();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    for (const t of trickles) clearInterval(t);
    server.closeAllConnections();
    server.close();
  });

  it('an attempt that outlives it is retryable and frees its node for the next one', async () => {
    // The request's own limit is far away: only the attempt's deadline can end these.
    const executor = new Executor({ perNodeConcurrency: 1, requestTimeoutMs: 60_000, attemptTimeoutMs: 300 }, pino({ level: 'silent' }));
    const started = Date.now();
    const outcomes = await runAll(executor, [attempt(1, address), attempt(2, address)]);
    const took = Date.now() - started;
    await executor.close();
    for (const n of [1, 2]) {
      const o = outcomes.get(n)!;
      assert.equal(o.kind, 'retryable');
      assert.match((o as { error: string }).error, /did not finish within 300 ms/);
    }
    // One at a time on this node (concurrency 1): the second starts when the first gives up.
    assert.ok(took >= 550 && took < 5_000, `both ended by their deadlines (${took} ms)`);
  });

  it('one timer serves every deadline: attempts that expire in turn, and ones that finish early, keep the others on time', async () => {
    const executor = new Executor({ perNodeConcurrency: 1, requestTimeoutMs: 60_000, attemptTimeoutMs: 200 }, pino({ level: 'silent' }));
    const fast = { ...attempt(0, address).node, id: 2, name: 'fast', driver: 'simulated', options: { latencyMs: [0, 0], concurrency: 4 } };
    const ended = new Map<number, number>();
    const outcomes = await new Promise<Map<number, Outcome>>((resolve) => {
      const seen = new Map<number, Outcome>();
      // A fast attempt first (its deadline is the first the timer is armed for), then four that
      // hang, one at a time on their node: each starts when the one before it gives up.
      const all = [attempt(20, address, { nodeId: 2, node: fast }), ...[21, 22, 23, 24].map((n) => attempt(n, address))];
      executor.run(all, (c, o, ms) => {
        seen.set(c.itemId, o);
        // How long the attempt ran, measured in the thread: delays in reporting it do not count.
        ended.set(c.itemId, ms);
        if (seen.size === all.length) resolve(seen);
      });
    });
    await executor.close();
    assert.equal(outcomes.get(20)!.kind, 'ok');
    // Each hung attempt started when the one before it gave up, and ran for its own time limit.
    for (const n of [21, 22, 23, 24]) {
      assert.match((outcomes.get(n) as { error: string }).error, /did not finish within 200 ms/);
      const ran = ended.get(n)!;
      assert.ok(ran >= 195 && ran < 1_700, `attempt ${n} gave up after ${ran.toFixed(0)} ms, its time limit 200 ms`);
    }
  });

  it('a stored WithHeader that may not be sent fails for good instead of retrying', async () => {
    const executor = new Executor({ perNodeConcurrency: 1, requestTimeoutMs: 1_000, attemptTimeoutMs: 2_000 }, pino({ level: 'silent' }));
    const outcomes = await runAll(executor, [attempt(3, address, { objectType: 'preload', withHeader: '{"Transfer-Encoding":["chunked"]}' })]);
    await executor.close();
    const o = outcomes.get(3)!;
    assert.equal(o.kind, 'permanent');
  });
});
