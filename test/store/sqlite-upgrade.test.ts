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
    // And undo what later migrations added (9: verified_by, node_groups; 10: client_tokens; 11: purge-then-warm; 12: tasks.verify_urls).
    db.exec('ALTER TABLE node_attempts DROP COLUMN verified_by; DROP TABLE node_groups; DROP TABLE client_tokens;');
    db.exec('ALTER TABLE tasks DROP COLUMN preload_after; ALTER TABLE node_attempts DROP COLUMN phase; ALTER TABLE node_attempts DROP COLUMN purged_at; ALTER TABLE tasks DROP COLUMN verify_urls;');
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

/**
 * Migration 9 (verified_by on node attempts, node_groups): a store written by the release before
 * it (schema 8) opens, keeps its attempts, shows them as not verified, and records how new
 * outcomes were verified from then on.
 */
describe('SqliteStore upgrade to migration 9', () => {
  it('a schema-8 store migrates forward: old outcomes unverified, new ones recorded, groups settable', async () => {
    const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
    const dir = mkdtempSync(join(tmpdir(), 'refreshd-upgrade9-'));
    // The schema the release before migration 9 creates, for comparison.
    const reference = new Database(join(dir, 'reference.db'));
    for (const m of MIGRATIONS.slice(0, 8)) reference.exec(m);
    const file = join(dir, 'refreshd.db');
    let store = new SqliteStore(file);
    const acct = (await store.identity.createAccount({ uid: '1000000000000083', name: 'up9', createdAt: T0 })).id;
    await store.domains.addDomain({ name: 'v.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'g', createdAt: T0 });
    for (const n of ['v1', 'v2']) await store.fleet.addNode({ name: n, driver: 'varnish', address: '127.0.0.1:1', group: 'g', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
    const out = await store.tasks.submit({
      accountId: acct, product: 'cdn', createdAt: T0, consume: [],
      tasks: [{ domain: 'v.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: ['http://v.example.com/a'] }],
    });
    assert.ok(out.ok);
    const { claimed } = await store.queue.dispatchAndClaim('up9', T0, 60_000, 10, 100);
    const [first, second] = [...claimed].sort((x, y) => x.nodeId - y.nodeId);
    await store.queue.recordOutcomes(T0 + 1, [{ itemId: first.itemId, nodeId: first.nodeId, lease: first.lease, state: 'applied' }]);
    await store.close();

    // Back to schema 8: what migration 9 added goes (and 10's client_tokens), and the file's schema is the reference's.
    const db = new Database(file);
    db.exec('ALTER TABLE node_attempts DROP COLUMN verified_by; DROP TABLE node_groups; DROP TABLE client_tokens;');
    // (and what the migrations after it added: 11, purge-then-warm; 12, tasks.verify_urls)
    db.exec('ALTER TABLE tasks DROP COLUMN preload_after; ALTER TABLE node_attempts DROP COLUMN phase; ALTER TABLE node_attempts DROP COLUMN purged_at; ALTER TABLE tasks DROP COLUMN verify_urls;');
    db.pragma('user_version = 8');
    const schema = (d: Database.Database) => d.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all()
      .map((r) => JSON.stringify(r).replace(/\s+/g, ' '));
    assert.deepEqual(schema(db), schema(reference));
    db.close();
    reference.close();

    store = new SqliteStore(file);
    try {
      assert.equal((await store.ops.health()).schemaVersion, MIGRATIONS.length);
      let rows = await store.tasks.attemptsOfTasks(acct, 'cdn', out.taskIds, 0);
      assert.deepEqual(rows.map((r) => [r.node, r.state, r.verifiedBy]), [['v1', 'applied', null], ['v2', 'pending', null]]);
      await store.queue.recordOutcomes(T0 + 2, [{ itemId: second.itemId, nodeId: second.nodeId, lease: second.lease, state: 'applied', verifiedBy: 'probe' }]);
      rows = await store.tasks.attemptsOfTasks(acct, 'cdn', out.taskIds, 0);
      assert.deepEqual(rows.map((r) => [r.node, r.state, r.verifiedBy]), [['v1', 'applied', null], ['v2', 'applied', 'probe']]);
      assert.deepEqual(await store.fleet.listNodeGroups(), []);
      await store.fleet.setNodeGroup({ name: 'g', verify: 'ack' });
      assert.deepEqual(await store.fleet.listNodeGroups(), [{ name: 'g', verify: 'ack' }]);
    } finally {
      await store.close();
    }
  });
});

/**
 * Migration 10 (client_tokens): a store written by the release before it (schema 9) opens, keeps
 * its tasks, and takes tokened submits from then on.
 */
describe('SqliteStore upgrade to migration 10', () => {
  it('a schema-9 store migrates forward and takes ClientTokens', async () => {
    const T0 = Date.UTC(2026, 11, 5, 9, 0, 0);
    const dir = mkdtempSync(join(tmpdir(), 'refreshd-upgrade10-'));
    const reference = new Database(join(dir, 'reference.db'));
    for (const m of MIGRATIONS.slice(0, 9)) reference.exec(m);
    const file = join(dir, 'refreshd.db');
    let store = new SqliteStore(file);
    const acct = (await store.identity.createAccount({ uid: '1000000000000084', name: 'up10', createdAt: T0 })).id;
    const batch = (path: string, token?: string) => ({
      accountId: acct, product: 'cdn' as const, createdAt: T0, consume: [],
      tasks: [{ domain: 't.example.com', objectType: 'file' as const, force: false, area: null, l2Preload: false, withHeader: null, paths: [path] }],
      clientToken: token === undefined ? undefined : { token, fingerprint: `fp-${path}`, expiresAt: T0 + 86_400_000 },
    });
    const before = await store.tasks.submit(batch('t.example.com/old'));
    assert.ok(before.ok);
    await store.close();

    const db = new Database(file);
    db.exec('DROP TABLE client_tokens;');
    // (and what the migrations after it added: 11, purge-then-warm; 12, tasks.verify_urls)
    db.exec('ALTER TABLE tasks DROP COLUMN preload_after; ALTER TABLE node_attempts DROP COLUMN phase; ALTER TABLE node_attempts DROP COLUMN purged_at; ALTER TABLE tasks DROP COLUMN verify_urls;');
    db.pragma('user_version = 9');
    const schema = (d: Database.Database) => d.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all()
      .map((r) => JSON.stringify(r).replace(/\s+/g, ' '));
    assert.deepEqual(schema(db), schema(reference));
    db.close();
    reference.close();

    store = new SqliteStore(file);
    try {
      assert.equal((await store.ops.health()).schemaVersion, MIGRATIONS.length);
      assert.equal((await store.tasks.itemsOfTasks(acct, 'cdn', before.taskIds, 0)).length, 1);
      const first = await store.tasks.submit(batch('t.example.com/new', 'up10'));
      const again = await store.tasks.submit(batch('t.example.com/new', 'up10'));
      assert.ok(first.ok && again.ok && again.replayed);
      assert.deepEqual(again.taskIds, first.taskIds);
    } finally {
      await store.close();
    }
  });
});

/**
 * Migration 12 (tasks.verify_urls): a store written by the release before it (schema 11) opens;
 * its tasks hand their attempts out with no samples, and new tasks keep theirs.
 */
describe('SqliteStore upgrade to migration 12', () => {
  it('a schema-11 store migrates forward: old tasks have no samples, new ones keep theirs', async () => {
    const T0 = Date.UTC(2026, 11, 8, 9, 0, 0);
    const dir = mkdtempSync(join(tmpdir(), 'refreshd-upgrade12-'));
    const reference = new Database(join(dir, 'reference.db'));
    for (const m of MIGRATIONS.slice(0, 11)) reference.exec(m);
    const file = join(dir, 'refreshd.db');
    let store = new SqliteStore(file);
    const acct = (await store.identity.createAccount({ uid: '1000000000000086', name: 'up12', createdAt: T0 })).id;
    await store.domains.addDomain({ name: 's.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'g', createdAt: T0 });
    await store.fleet.addNode({ name: 's1', driver: 'varnish', address: '127.0.0.1:1', group: 'g', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
    const task = (path: string, verifyUrls?: string[]) => ({
      accountId: acct, product: 'cdn' as const, createdAt: T0, consume: [],
      tasks: [{ domain: 's.example.com', objectType: 'directory' as const, force: false, area: null, l2Preload: false, withHeader: null, paths: [path], verifyUrls }],
    });
    assert.ok((await store.tasks.submit(task('s.example.com/old/'))).ok);
    await store.close();

    // Back to schema 11: the column goes, and the file's schema is the reference's.
    const db = new Database(file);
    db.exec('ALTER TABLE tasks DROP COLUMN verify_urls;');
    db.pragma('user_version = 11');
    const schema = (d: Database.Database) => d.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all()
      .map((r) => JSON.stringify(r).replace(/\s+/g, ' '));
    assert.deepEqual(schema(db), schema(reference));
    db.close();
    reference.close();

    store = new SqliteStore(file);
    try {
      assert.equal((await store.ops.health()).schemaVersion, MIGRATIONS.length);
      assert.ok((await store.tasks.submit(task('s.example.com/new/', ['s.example.com/new/a.png']))).ok);
      const { claimed } = await store.queue.dispatchAndClaim('up12', T0, 60_000, 10, 100);
      assert.deepEqual(claimed.map((c) => [c.objectPath, c.verifyUrls]).sort(), [['s.example.com/new/', ['s.example.com/new/a.png']], ['s.example.com/old/', []]]);
    } finally {
      await store.close();
    }
  });
});
