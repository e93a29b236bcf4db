import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StoreBusy } from '../../src/store/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { cancelContract } from './cancel-contract.js';
import { clientTokenContract } from './client-token-contract.js';
import { credentialContract } from './credential-contract.js';
import { storeContract } from './contract.js';
import { submitDispatchContract } from './submit-dispatch-contract.js';
import { statusFilterContract } from './status-filter-contract.js';
import { sweepContract } from './sweep-contract.js';
import { taskIdContract } from './task-id-contract.js';

storeContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')), { listenForWork: false });
submitDispatchContract('sqlite', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db');
  return { store: new SqliteStore(file), second: async () => new SqliteStore(file) };
});
taskIdContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')), async (store, next) => {
  store.raw.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'tasks'").run(BigInt(next) - 1n);
});
cancelContract('sqlite', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db');
  return { store: new SqliteStore(file), second: async () => new SqliteStore(file) };
});
clientTokenContract('sqlite', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db');
  const store = new SqliteStore(file);
  return {
    store,
    // Opening the file again is what a restarted server does.
    second: async () => new SqliteStore(file),
    breakInserts: async (table) => {
      const db = new Database(file);
      db.exec(`CREATE TRIGGER test_break_${table} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'broken for the test'); END`);
      return async () => {
        db.exec(`DROP TRIGGER test_break_${table}`);
        db.close();
      };
    },
  };
});
credentialContract('sqlite', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db');
  // A second SqliteStore on the file is what a CLI command (another process) opens.
  return { store: new SqliteStore(file), second: async () => new SqliteStore(file) };
});
statusFilterContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')));
sweepContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')));

describe('SqliteStore: the retention sweep', () => {
  it('deletes in steps and lets the event loop run between them', async () => {
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db'));
    const now = Date.now();
    // 10,000 expired nonces and 10,000 audit records past retention (five steps each), and one of each to keep.
    const nonce = store.raw.prepare('INSERT INTO nonces (expires_at, key) VALUES (?, ?)');
    const audit = store.raw.prepare("INSERT INTO audit_log (at, request_id, source_ip, params, status) VALUES (?, ?, '127.0.0.1', '{}', 200)");
    store.raw.transaction(() => {
      for (let i = 0; i < 10_000; i++) (nonce.run(now - 100_000 + i, `k${i}`), audit.run(now - 100_000 + i, `r${i}`));
      nonce.run(now + 60_000, 'kept');
      audit.run(now, 'kept');
    })();
    let turns = 0;
    let sweeping = true;
    const spin = () => {
      if (sweeping) (turns++, setImmediate(spin));
    };
    setImmediate(spin);
    await store.ops.sweep(0, now, now - 1);
    sweeping = false;
    const count = (sql: string) => store.raw.prepare(sql).pluck().get();
    assert.equal(count('SELECT count(*) FROM nonces'), 1);
    assert.equal(count('SELECT count(*) FROM audit_log'), 1);
    // One statement per table would have run in a single turn, with no turn of the loop between.
    assert.ok(turns >= 8, `the loop turned ${turns} times during the sweep`);
    await store.close();
  });
});

describe('SqliteStore: a lock held by another process', () => {
  it('is StoreBusy to every role, not a SQLite error code (the API answers ServiceUnavailable)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db');
    const store = new SqliteStore(file);
    const other = new Database(file);
    try {
      store.raw.pragma('busy_timeout = 20');
      other.prepare('BEGIN IMMEDIATE').run();
      const write = store.domains.addDomain({ name: 'busy.example.com', accountId: 1, product: 'cdn', origin: null, online: true, nodeGroup: 'g', createdAt: 0 });
      await assert.rejects(write, (err: unknown) => err instanceof StoreBusy && (err.cause as { code?: string }).code === 'SQLITE_BUSY');
      other.prepare('ROLLBACK').run();
      assert.deepEqual(await store.domains.listDomains(), [], 'nothing was written');
    } finally {
      other.close();
      await store.close();
    }
  });
});
