import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { makeLogger } from '../../src/app.js';
import type { Outcome } from '../../src/edges/driver.js';
import type { ClaimedAttempt } from '../../src/store/port.js';
import { Executor } from '../../src/worker/executor.js';

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
});
