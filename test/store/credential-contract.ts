import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CREDENTIAL_TTL_MS } from '../../src/store/credential-cache.js';
import type { Credential, Store } from '../../src/store/port.js';

/**
 * findCredential, the read that authenticates every call: a key and its account in one read,
 * cached for at most CREDENTIAL_TTL_MS. A change through the same store object shows at once;
 * one through a second store on the same data (what another process has: a CLI command on the
 * SQLite file, another API process on PostgreSQL) within CREDENTIAL_TTL_MS.
 */
export function credentialContract(name: string, open: () => Promise<{ store: Store; second: () => Promise<Store> }>): void {
  describe(`Store contract: ${name}: credentials (key + account in one read, cached briefly)`, () => {
    let one: Store;
    let two: Store;
    let account: number;
    const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
    const key = (accessKeyId: string, userName: string | null = null) =>
      one.identity.createAccessKey({ accessKeyId, secretCipher: `gcm1:${accessKeyId}`, accountId: account, userName, active: true, createdAt: T0 });

    before(async () => {
      const opened = await open();
      one = opened.store;
      two = await opened.second();
      account = (await one.identity.createAccount({ uid: '1000000000000007', name: 'creds', createdAt: T0 })).id;
    });
    after(async () => {
      await two.close();
      await one.close();
    });

    /** Asks `one` until `done` holds; fails unless that happens within the cache's bound (plus scheduling slack). */
    async function withinBound(id: string, done: (c: Credential | undefined) => boolean, change: () => Promise<unknown>): Promise<void> {
      assert.ok(!done(await one.identity.findCredential(id)), 'before the change (now cached)');
      const t0 = performance.now();
      await change();
      for (;;) {
        if (done(await one.identity.findCredential(id))) break;
        assert.ok(performance.now() - t0 < CREDENTIAL_TTL_MS + 500, `still the old credential ${Math.round(performance.now() - t0)} ms after the change`);
        await sleep(20);
      }
      for (let i = 0; i < 5; i++) assert.ok(done(await one.identity.findCredential(id)), 'and it stays changed');
    }

    it('reads the key and its account together; an unknown key is undefined', async () => {
      await key('LTAIcred1');
      const c = await one.identity.findCredential('LTAIcred1');
      assert.deepEqual(c, { key: await one.identity.findAccessKey('LTAIcred1'), account: await one.identity.getAccount(account) });
      assert.deepEqual(await two.identity.findCredential('LTAIcred1'), c, 'the same through another store');
      assert.equal(await one.identity.findCredential('LTAInobody'), undefined);
    });

    it('through the same store, a change shows at once', async () => {
      assert.equal(await one.identity.findCredential('LTAIcred2'), undefined);
      await key('LTAIcred2', null);
      assert.equal((await one.identity.findCredential('LTAIcred2'))?.key.active, true, 'a new key works at once: misses are not cached');
      await one.identity.setAccessKeyActive('LTAIcred2', false);
      assert.equal((await one.identity.findCredential('LTAIcred2'))?.key.active, false);
      await one.identity.setAccessKeyActive('LTAIcred2', true);
      await one.identity.setServiceState(account, 'cdn', 'suspended');
      assert.equal((await one.identity.findCredential('LTAIcred2'))?.account?.services.cdn, 'suspended');
      await one.identity.setServiceState(account, 'cdn', 'active');
      assert.equal((await one.identity.findCredential('LTAIcred2'))?.account?.services.cdn, 'active');
      await one.identity.deleteAccessKey('LTAIcred2');
      assert.equal(await one.identity.findCredential('LTAIcred2'), undefined);
      await one.identity.createUser({ accountId: account, name: 'ursula', displayName: '', createdAt: T0 });
      await key('LTAIcred3', 'ursula');
      assert.equal((await one.identity.findCredential('LTAIcred3'))?.key.userName, 'ursula');
      await one.identity.removeUser(account, 'ursula');
      assert.equal(await one.identity.findCredential('LTAIcred3'), undefined, 'a removed user’s key at once');
    });

    it(`through another store (another process), a disabled key reads disabled within ${CREDENTIAL_TTL_MS} ms`, async () => {
      await key('LTAIcred4');
      await withinBound('LTAIcred4', (c) => c?.key.active === false, () => two.identity.setAccessKeyActive('LTAIcred4', false));
    });

    it('… a deleted key is gone, and a suspended account reads suspended, within the same bound', async () => {
      await key('LTAIcred5');
      await withinBound('LTAIcred5', (c) => c === undefined, () => two.identity.deleteAccessKey('LTAIcred5'));
      await key('LTAIcred6');
      await withinBound('LTAIcred6', (c) => c?.account?.services.vod === 'suspended', () => two.identity.setServiceState(account, 'vod', 'suspended'));
    });
  });
}
