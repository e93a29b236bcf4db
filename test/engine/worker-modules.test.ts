import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeLogger } from '../../src/app.js';
import { DEFAULTS, type EngineConfig } from '../../src/config/config.js';
import type { Outcome } from '../../src/edges/driver.js';
import type { ClaimedAttempt } from '../../src/store/port.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { OnOutcome } from '../../src/worker/executor.js';
import { LeaseKeeper } from '../../src/worker/lease-keeper.js';
import { FLUSH_AT, OutcomeBatcher } from '../../src/worker/outcome-batcher.js';
import { Worker, type AttemptRunner } from '../../src/worker/worker.js';
import { FakeClock, settle } from '../helpers/fake-clock.js';

/**
 * The worker's three parts — the loop, the outcome batcher, the lease heartbeat and reaper — on a
 * real SQLite store, with time moved by a fake clock (no test waits for a timer).
 */
const logger = makeLogger('silent');
let dir: string;
let store: SqliteStore;
let account: number;
let taskNo = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'refreshd-worker-'));
  store = new SqliteStore(join(dir, 'refreshd.db'));
  account = (await store.identity.createAccount({ uid: '1000000000000009', name: 'w', createdAt: 0 })).id;
  await store.domains.addDomain({ name: 'w.example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'w', createdAt: 0 });
  await store.fleet.addNode({ name: 'w1', driver: 'simulated', address: 's/w1', group: 'w', area: 'domestic', enabled: true, options: {}, createdAt: 0 });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Submit `n` items at `at` and return the task id. */
async function submit(at: number, n = 1): Promise<string> {
  const t = ++taskNo;
  const out = await store.tasks.submit({
    accountId: account, product: 'cdn', createdAt: at, consume: [],
    tasks: [{ domain: 'w.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: Array.from({ length: n }, (_, i) => `http://w.example.com/${t}/${i}`) }],
  });
  assert.ok(out.ok);
  return out.taskIds[0];
}
const counts = async (taskId: string) => (await store.tasks.itemsOfTasks(account, 'cdn', [taskId], 0)).map((r) => r.counts);

describe('LeaseKeeper (heartbeat and reaper)', () => {
  it('renews what it holds every third of a lease, and reaps what ran out', async () => {
    const clock = new FakeClock();
    const T = clock.now();
    await submit(T);
    const [c] = (await store.queue.dispatchAndClaim('keeper', T, 3_000, 10, 10)).claimed;
    let freed = 0;
    const keeper = new LeaseKeeper(store.queue, 3_000, () => freed++, logger, clock);
    keeper.hold([c]);
    keeper.start();
    // Beats at +1 s, +2 s, … each renew to now + 3 s: still leased long after the first lease would have ended.
    await clock.advance(5_000);
    assert.deepEqual(await store.queue.claimAttempts('other', T + 5_000, 3_000, 10), [], 'renewed: nobody else can claim it');
    assert.equal(freed, 0);
    // The attempt finishes (its outcome is lost): no more renewals, the lease runs out and the next beat reaps it.
    keeper.release(c.lease);
    assert.deepEqual(keeper.tokens(), []);
    await clock.advance(4_000);
    assert.equal(freed, 1, 'the reaper said it freed leases');
    const again = await store.queue.claimAttempts('other', clock.now(), 3_000, 10);
    assert.deepEqual(again.map((a) => a.itemId), [c.itemId]);
    keeper.stop();
    assert.equal(clock.pending, 0);
    await store.queue.recordOutcomes(clock.now(), again.map((a) => ({ itemId: a.itemId, nodeId: a.nodeId, lease: a.lease, state: 'applied' as const })));
  });
});

describe('OutcomeBatcher', () => {
  it('records what has arrived in one transaction, and nothing when nothing waits', async () => {
    const clock = new FakeClock();
    const T = clock.now();
    const taskId = await submit(T, FLUSH_AT + 1);
    const claimed = (await store.queue.dispatchAndClaim('batcher', T, 60_000, 1_000, 1_000)).claimed;
    let recorded = 0;
    const batcher = new OutcomeBatcher(store.queue, logger, clock, () => recorded++);
    const applied = (a: ClaimedAttempt) => ({ itemId: a.itemId, nodeId: a.nodeId, lease: a.lease, state: 'applied' as const });

    await batcher.flush();
    assert.equal(recorded, 0, 'an empty flush records nothing');
    for (const a of claimed.slice(0, FLUSH_AT)) batcher.add(applied(a));
    assert.equal(batcher.size, FLUSH_AT);
    await batcher.flush();
    assert.equal(recorded, 1);
    assert.equal(batcher.size, 0);
    assert.equal((await counts(taskId)).filter((c) => c.applied === 1).length, FLUSH_AT);
    batcher.add(applied(claimed[FLUSH_AT]));
    await batcher.flush();
    assert.equal(recorded, 2);
    assert.ok((await counts(taskId)).every((c) => c.applied === 1));
  });
});

describe('Worker loop', () => {
  it('finds new items and due retries on its poll tick, and records their outcomes', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 24, 10, 0, 0));
    const cfg: EngineConfig = { ...DEFAULTS.engine, pollMs: 500, retryBaseMs: 1_000, maxAttempts: 3, leaseMs: 30_000, maxInFlight: 64 };
    // Fails the first try on the node, applies the second.
    const runs: number[] = [];
    const runner: AttemptRunner = {
      run(attempts: ClaimedAttempt[], done: OnOutcome) {
        for (const a of attempts) {
          runs.push(clock.now());
          const outcome: Outcome = a.attempts === 0 ? { kind: 'retryable', error: 'node busy' } : { kind: 'ok' };
          setImmediate(() => done(a, outcome, 1));
        }
      },
      abort() {},
      drop() {},
    };
    const taskId = await submit(clock.now());
    const worker = new Worker(store, runner, cfg, logger, undefined, clock);
    worker.start();
    await settle();
    assert.equal(runs.length, 1, 'an idle worker dispatches what is waiting at once');
    await clock.advance(cfg.pollMs);
    assert.deepEqual((await counts(taskId))[0], { total: 1, applied: 0, failed: 0 }, 'the retry is not due yet');
    // The retry is due 0.8–1.2 s after the failure; the poll tick after that claims it.
    await clock.advance(1_200 + cfg.pollMs);
    assert.equal(runs.length, 2);
    assert.ok(runs[1] - runs[0] >= 800 && runs[1] - runs[0] <= 1_200 + cfg.pollMs, `retried after ${runs[1] - runs[0]} ms`);
    await clock.advance(cfg.pollMs);
    assert.deepEqual((await counts(taskId))[0], { total: 1, applied: 1, failed: 0 });
    const stopped = worker.stop(0);
    await clock.advance(cfg.pollMs);
    await stopped;
  });
});
