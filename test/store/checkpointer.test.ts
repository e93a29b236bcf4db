import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/**
 * WAL checkpoints run in the store's own thread (checkpointer.ts), never inside a commit on the
 * event loop: the store's connections have the automatic checkpoint off, and what they write is
 * copied into the database file by the thread, also below SQLite's automatic threshold.
 */
describe('SqliteStore checkpoints', () => {
  it('are off on the connections and done by the thread, whatever the WAL holds', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'refreshd-ckpt-')), 'refreshd.db');
    const store = new SqliteStore(file);
    try {
      assert.equal(store.raw.pragma('wal_autocheckpoint', { simple: true }), 0);
      const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
      const acct = (await store.identity.createAccount({ uid: '1000000000000095', name: 'ckpt', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'k.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'g', createdAt: T0 });
      // ~200 WAL pages, below the automatic checkpoint's 1,000: without the thread they would stay in the WAL.
      for (let i = 0; i < 20; i++) {
        const out = await store.tasks.submit({
          accountId: acct, product: 'cdn', createdAt: T0, consume: [],
          tasks: [{ domain: 'k.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: Array.from({ length: 100 }, (_, j) => `k.example.com/${i}/${j}.css`) }],
        });
        assert.ok(out.ok, JSON.stringify(out));
        await out.durable();
      }
      // Checkpointed means copied into the database file: its size reaches the store's pages.
      const pages = store.raw.pragma('page_count', { simple: true }) as number;
      const pageSize = store.raw.pragma('page_size', { simple: true }) as number;
      const deadline = Date.now() + 10_000;
      // (The thread's answer may come a moment after the file grew.)
      while (statSync(file).size < pages * pageSize || store.checkpointer!.stats.runs === 0) {
        assert.ok(Date.now() < deadline, `not checkpointed: ${statSync(file).size} B in the file for ${pages} pages, ${store.checkpointer!.stats.runs} runs`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(store.checkpointer!.stats.lastError, '');
    } finally {
      await store.close();
    }
  });
});
