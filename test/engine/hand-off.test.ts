import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClaimedAttempt, SubmitBatch } from '../../src/store/port.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { HandOff, type LocalTaker } from '../../src/worker/hand-off.js';

/** The hand-off between submits and the workers of the same process, on a real SQLite store. */
let dir: string;
let store: SqliteStore;
let account: number;
let n = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'refreshd-handoff-'));
  store = new SqliteStore(join(dir, 'refreshd.db'));
  account = (await store.identity.createAccount({ uid: '1000000000000010', name: 'h', createdAt: 0 })).id;
  await store.domains.addDomain({ name: 'h.example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'h', createdAt: 0 });
  await store.fleet.addNode({ name: 'h1', driver: 'simulated', address: 's/h1', group: 'h', area: 'domestic', enabled: true, options: {}, createdAt: 0 });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const batch = (paths: number): SubmitBatch => ({
  accountId: account, product: 'cdn', createdAt: Date.UTC(2026, 10, 25) + ++n, consume: [],
  tasks: [{ domain: 'h.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: Array.from({ length: paths }, (_, i) => `http://h.example.com/${n}/${i}`) }],
});

function taker(room: number): LocalTaker & { taken: ClaimedAttempt[][]; woken: number } {
  const t = {
    owner: 'h-local', leaseMs: 30_000, taken: [] as ClaimedAttempt[][], woken: 0,
    room: () => room - t.taken.flat().length,
    take: (c: ClaimedAttempt[]) => void t.taken.push(c),
    wake: () => void t.woken++,
  };
  return t;
}

describe('HandOff', () => {
  it('gives the worker what the committed submit leased to it, and wakes it only for items left waiting', async () => {
    const handOff = new HandOff();
    const t = taker(2);
    const detach = handOff.attach(t);
    const out = await handOff.submit((lease) => store.tasks.submit({ ...batch(3), lease }));
    assert.ok(out.ok);
    assert.deepEqual(t.taken.map((c) => c.length), [2], 'two items fit on the one node');
    assert.equal(t.woken, 1, 'the third waits for dispatch: the worker is woken');
    const rest = await store.queue.dispatchAndClaim('other', Date.now(), 30_000, 10, 10);
    assert.equal(rest.claimed.length, 1);
    await store.queue.recordOutcomes(Date.now(), [...t.taken.flat(), ...rest.claimed].map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' as const })));
    detach();
  });

  it('answers only once the submit is durable', async () => {
    const handOff = new HandOff();
    const t = taker(10);
    handOff.attach(t);
    let flushed: () => void = () => {};
    let answered = false;
    const submitted = handOff.submit(async (lease) => {
      const out = await store.tasks.submit({ ...batch(1), lease });
      assert.ok(out.ok);
      return { ...out, durable: () => new Promise<void>((resolve) => (flushed = resolve)) };
    }).then(() => (answered = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(t.taken.length, 1, 'the worker starts while the write is flushed');
    assert.equal(answered, false, 'not answered before the flush');
    flushed();
    await submitted;
    assert.equal(answered, true);
  });

  it('without room, the store leases nothing and the worker is woken for the new items', async () => {
    const handOff = new HandOff();
    const t = taker(0);
    handOff.attach(t);
    const out = await handOff.submit((lease) => {
      assert.equal(lease, undefined, 'no room: no lease asked for');
      return store.tasks.submit({ ...batch(1), lease });
    });
    assert.ok(out.ok && out.leased.length === 0);
    assert.equal(t.woken, 1);
    await store.queue.dispatchAndClaim('other', Date.now(), 30_000, 10, 0);
  });
});
