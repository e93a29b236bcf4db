import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeContract } from './contract.js';
import { submitDispatchContract } from './submit-dispatch-contract.js';
import { statusFilterContract } from './status-filter-contract.js';
import { taskIdContract } from './task-id-contract.js';

storeContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')));
submitDispatchContract('sqlite', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db');
  return { store: new SqliteStore(file), second: async () => new SqliteStore(file) };
}, false);
taskIdContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')), async (store, next) => {
  store.raw.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'tasks'").run(BigInt(next) - 1n);
});
statusFilterContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')));
