import { dispatchPending } from '../store/harness.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeLogger } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { SecretBox } from '../../src/identity/secret-box.js';
import type { Store } from '../../src/store/port.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { webhookAad } from '../../src/webhooks/admin.js';
import { verifyWebhook } from '../../src/webhooks/event.js';
import { Notifier } from '../../src/worker/notifier.js';
import { startPgCluster } from '../store/pg-cluster.js';
import { startReceiver, until } from './receiver.js';

/**
 * Two notifiers — two worker processes — on one store race to finish the same tasks and to
 * claim the same deliveries. Every task's event must reach the receiver exactly once. On
 * PostgreSQL the two run on separate connection pools, as two processes would.
 */
const cluster = await startPgCluster();
after(() => cluster.stop());

const secret = randomBytes(32).toString('hex');
const box = new SecretBox(randomBytes(32));
const cfg = loadConfig({ webhooks: { pollMs: 10, maxInFlight: 4, finishBatch: 7, leaseMs: 5000, timeoutMs: 2000 } }).webhooks;

async function race(one: Store, two: Store) {
  const T0 = Date.now();
  const account = (await one.identity.createAccount({ uid: '3000000000000001', name: 'racer', createdAt: T0 })).id;
  await one.domains.addDomain({ name: 'race.example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: T0 });
  await one.fleet.addNode({ name: 'rn-1', driver: 'simulated', address: 's/1', group: 'default', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
  const receiver = await startReceiver(() => 200, 15);
  await one.outbox.setWebhook(account, { url: `${receiver.url}/race`, secretCipher: box.seal(secret, webhookAad(account)) }, T0);
  /** Submit `n` one-path tasks and record every node applied, through `store`. */
  const finishSome = async (store: Store, n: number, tag: string) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const out = await store.tasks.submit({
        accountId: account, product: 'cdn', createdAt: Date.now(), consume: [],
        tasks: [{ domain: 'race.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: [`race.example.com/${tag}${i}`] }],
      });
      assert.ok(out.ok);
      ids.push(...out.taskIds);
    }
    await dispatchPending(store, Date.now(), 1000);
    const claimed = await store.queue.claimAttempts('w', Date.now(), 60_000, 1000);
    await store.queue.recordOutcomes(Date.now(), claimed.map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const })));
    return ids;
  };
  const logger = makeLogger('silent');
  const claims = [0, 0];
  const notifiers = [one, two].map((s, i) => new Notifier(counting(s, (n) => (claims[i] += n)), async () => box, cfg, logger));
  try {
    const first = await finishSome(one, 25, 'a');
    for (const n of notifiers) n.start();
    const second = await finishSome(two, 25, 'b'); // finished while both run
    const ids = [...first, ...second];
    await until(async () => {
      const rows = await one.outbox.listDeliveries(account, 1000);
      return rows.length === ids.length && rows.every((d) => d.state === 'delivered');
    }, 'every delivery to be delivered', 20_000);
    await new Promise((r) => setTimeout(r, 200)); // time for a duplicate to show, were there one
    const got = receiver.requests;
    assert.deepEqual(got.map((r) => r.json.TaskId).sort(), [...ids].sort(), 'each task once');
    assert.equal(new Set(got.map((r) => r.headers['x-refreshd-delivery'])).size, ids.length, 'each delivery once');
    assert.ok(got.every((r) => verifyWebhook(secret, r.body, r.headers['x-refreshd-signature'] as string)));
    assert.ok((await one.outbox.listDeliveries(account, 1000)).every((d) => d.attempts === 1));
    assert.ok(claims[0] > 0 && claims[1] > 0, `both notifiers sent some: ${claims.join(' + ')}`);
  } finally {
    await Promise.all(notifiers.map((n) => n.stop()));
    await receiver.close();
  }
}

/** The store, counting the deliveries its claims hand out. */
function counting(store: Store, claimed: (n: number) => void): Store {
  const outbox = Object.create(store.outbox) as Store['outbox'];
  outbox.claimDeliveries = async (...args) => {
    const got = await store.outbox.claimDeliveries(...args);
    claimed(got.length);
    return got;
  };
  return { ...pick(store), outbox };
}

/** The roles of a store as a plain object. */
function pick(s: Store): Store {
  return {
    identity: s.identity, domains: s.domains, fleet: s.fleet, tasks: s.tasks, queue: s.queue, outbox: s.outbox,
    audit: s.audit, guards: s.guards, ops: s.ops, capabilities: s.capabilities, close: () => s.close(),
  };
}

describe('two notifiers on one store deliver each event once', () => {
  it('PostgreSQL, two connection pools', async () => {
    const url = await cluster.createDatabase();
    const [one, two] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    try {
      await race(one, two);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('SQLite, one store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refreshd-notifiers-'));
    const store = new SqliteStore(join(dir, 'refreshd.db'));
    try {
      await race(store, store);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
