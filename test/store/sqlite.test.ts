import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeContract } from './contract.js';

storeContract('sqlite', async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), 'refreshd-store-')), 'refreshd.db')));
