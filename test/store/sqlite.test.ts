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
import { storeContract } from './contract.js';
import { submitDispatchContract } from './submit-dispatch-contract.js';
import { statusFilterContract } from './status-filter-contract.js';
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
statusFilterContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')));

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
