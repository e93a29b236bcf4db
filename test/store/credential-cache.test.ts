import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CredentialCache, CREDENTIALS_MAX } from '../../src/store/credential-cache.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** The credential cache's bounds, over a real store's reads: what a hostile caller can and cannot make it hold. */
describe('CredentialCache', () => {
  let dir: string;
  let store: SqliteStore;
  const read = (id: string) => store.identity.findCredential(id);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'refreshd-creds-'));
    store = new SqliteStore(join(dir, 'refreshd.db'));
    const account = (await store.identity.createAccount({ uid: '1000000000000009', name: 'c', createdAt: 0 })).id;
    for (let i = 0; i < 5; i++) {
      await store.identity.createAccessKey({ accessKeyId: `LTAIkey${i}`, secretCipher: 'gcm1:x', accountId: account, userName: null, active: true, createdAt: 0 });
    }
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps nothing for keys that do not exist: random AccessKeyIds cannot grow it', async () => {
    const cache = new CredentialCache();
    for (let i = 0; i < 20_000; i++) assert.equal(await cache.find(`LTAIrandom${i}${Math.random()}`, read), undefined);
    assert.equal(cache.size, 0);
  });

  it(`holds at most its bound (${CREDENTIALS_MAX} by default), dropping the oldest`, async () => {
    const cache = new CredentialCache(60_000, 3);
    for (let i = 0; i < 5; i++) assert.equal((await cache.find(`LTAIkey${i}`, read))?.key.accessKeyId, `LTAIkey${i}`);
    assert.equal(cache.size, 3);
  });

  it('serves a credential until its time is up, then reads it again', async () => {
    let t = 0;
    let reads = 0;
    const counted = (id: string) => (reads++, read(id));
    const cache = new CredentialCache(1_000, 10, () => t);
    const first = await cache.find('LTAIkey0', counted);
    t = 999;
    assert.equal(await cache.find('LTAIkey0', counted), first, 'the same object while fresh');
    assert.equal(reads, 1);
    await store.identity.setAccessKeyActive('LTAIkey0', false);
    t = 1_000;
    assert.equal((await cache.find('LTAIkey0', counted))?.key.active, false, 'read again once its time is up');
    assert.equal(reads, 2);
    await store.identity.setAccessKeyActive('LTAIkey0', true);
  });

  it('does not keep a read that overlapped a write (it may have read the old row)', async () => {
    const cache = new CredentialCache();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = async (id: string) => {
      const c = await read(id);
      await gate;
      return c;
    };
    const pending = cache.find('LTAIkey1', slow);
    cache.clear();
    release();
    assert.ok(await pending);
    assert.equal(cache.size, 0);
  });
});
