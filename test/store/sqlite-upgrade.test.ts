import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { deriveStatus } from '../../src/domain/progress.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/**
 * Migration 8: stores written before an item stayed Pending until its first node confirmed it
 * hold dispatched, unconfirmed items as Refreshing. The upgrade moves them (and their per-hour
 * counts) to Pending and leaves the others alone.
 */
describe('SqliteStore upgrade to migration 8', () => {
  it('moves dispatched items no node has confirmed from Refreshing to Pending, counts included', async () => {
    const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
    const file = join(mkdtempSync(join(tmpdir(), 'refreshd-upgrade-')), 'refreshd.db');
    let store = new SqliteStore(file);
    const acct = (await store.identity.createAccount({ uid: '1000000000000081', name: 'up', createdAt: T0 })).id;
    await store.domains.addDomain({ name: 'u.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'g', createdAt: T0 });
    for (const n of ['u1', 'u2']) await store.fleet.addNode({ name: n, driver: 'simulated', address: `s/${n}`, group: 'g', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
    const out = await store.tasks.submit({
      accountId: acct, product: 'cdn', createdAt: T0, consume: [],
      tasks: [{ domain: 'u.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: ['http://u.example.com/a', 'http://u.example.com/b', 'http://u.example.com/c'] }],
    });
    assert.ok(out.ok);
    const { claimed } = await store.queue.dispatchAndClaim('up', T0, 60_000, 10, 100);
    // a: one node of two confirmed (Refreshing either way); b and c: none yet.
    const a = claimed.find((c) => c.objectPath.endsWith('/a'))!;
    await store.queue.recordOutcomes(T0 + 1, [{ itemId: a.itemId, nodeId: a.nodeId, lease: a.lease, state: 'applied' }]);
    await store.close();

    // Back to how version 7 stored b and c (the trigger keeps the per-hour counts in step).
    const db = new Database(file);
    db.prepare("UPDATE items SET status = 'Refreshing' WHERE object_path IN ('http://u.example.com/b', 'http://u.example.com/c')").run();
    // ...and without what later migrations added (9: purge-then-warm), which the upgrade adds again.
    db.exec('ALTER TABLE tasks DROP COLUMN preload_after; ALTER TABLE node_attempts DROP COLUMN phase; ALTER TABLE node_attempts DROP COLUMN purged_at;');
    db.pragma('user_version = 7');
    db.close();

    store = new SqliteStore(file);
    assert.equal((await store.ops.health()).schemaVersion, MIGRATIONS.length);
    const rows = await store.tasks.itemsOfTasks(acct, 'cdn', out.taskIds, 0);
    assert.deepEqual(rows.map((r) => deriveStatus(r.counts)), ['Refreshing', 'Pending', 'Pending']);
    const total = async (status: 'Pending' | 'Refreshing') =>
      (await store.tasks.queryItems({ accountId: acct, product: 'cdn', from: T0 - 3_600_000, to: T0 + 2 * 3_600_000 - 1, offset: 0, limit: 10, status })).total;
    assert.equal(await total('Pending'), 2);
    assert.equal(await total('Refreshing'), 1);
    await store.close();
  });
});
