import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { WalSync } from '../../src/store/sqlite/wal-sync.js';

describe('WalSync (group commit of submits)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-walsync-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('flushes a file; calls made while a flush runs share the next one; all resolve', async () => {
    const path = join(dir, 'a-wal');
    writeFileSync(path, 'frames');
    const sync = new WalSync(path);
    const first = sync.sync();
    const joined = Array.from({ length: 20 }, () => sync.sync());
    assert.equal(new Set(joined).size, 1, 'everyone who came during the first flush waits for the same second flush');
    assert.notEqual(joined[0], first);
    await Promise.all([first, ...joined]);
    await sync.sync(); // and a new round starts afterwards
    await sync.close();
  });

  it('fails the callers while the file is missing, and works once it exists', async () => {
    const path = join(dir, 'b-wal');
    const sync = new WalSync(path);
    await assert.rejects(sync.sync(), { code: 'ENOENT' });
    writeFileSync(path, 'frames');
    await sync.sync();
    await sync.close();
  });

  it('a store submits through it: concurrent submits all land, and survive a reopen', async () => {
    const file = join(dir, 'store.db');
    let store = new SqliteStore(file);
    const acct = await store.identity.createAccount({ uid: '1000000000000091', name: 'ws', createdAt: 1 });
    await store.domains.addDomain({ name: 'ws.example.com', accountId: acct.id, product: 'cdn', origin: null, online: true, nodeGroup: 'none', createdAt: 1 });
    const outs = await Promise.all(Array.from({ length: 30 }, (_, i) => store.tasks.submit({
      accountId: acct.id, product: 'cdn', createdAt: 1000 + i, consume: [],
      tasks: [{ domain: 'ws.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: [`http://ws.example.com/${i}`] }],
    })));
    const ids = outs.map((o) => (assert.ok(o.ok), o.taskIds[0]));
    await store.close();
    store = new SqliteStore(file);
    assert.equal((await store.tasks.itemsOfTasks(acct.id, 'cdn', ids, 0)).length, 30);
    await store.close();
  });
});
