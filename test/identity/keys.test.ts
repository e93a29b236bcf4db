import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addAccount, addKey, addUser, deleteKey, removeUser, setKeyActive } from '../../src/identity/admin.js';
import { ensureRootAccount } from '../../src/identity/root-account.js';
import { SecretBox } from '../../src/identity/secret-box.js';
import { loadMasterKey, openVault } from '../../src/identity/vault.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { Cdn, cdnClient, popClient, popRequest } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** AccessKeys: disabled and deleted keys, secrets sealed at rest, the master key and its file. */
let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe('AccessKey status, through the official clients', () => {
  it('a disabled key answers InvalidAccessKeyId.Inactive until enabled again; a deleted one NotFound', async () => {
    const account = (await server.store.identity.getAccount(server.accountId))!;
    const key = await addKey(server.store, server.vault, account);
    const creds = { id: key.accessKeyId, secret: key.secret };
    const quota = () => cdnClient(server.hostPort, 'v3', creds).describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({}));
    assert.equal((await quota()).statusCode, 200);
    await setKeyActive(server.store, key.accessKeyId, false);
    await assert.rejects(quota(), (e: any) => e.code === 'InvalidAccessKeyId.Inactive' && e.statusCode === 400);
    await assert.rejects(popRequest(popClient(server.url, '2018-05-10', creds), 'DescribeRefreshQuota', {}), (e: any) => e.code === 'InvalidAccessKeyId.Inactive');
    await setKeyActive(server.store, key.accessKeyId, true);
    assert.equal((await quota()).statusCode, 200);
    await deleteKey(server.store, key.accessKeyId);
    await assert.rejects(quota(), (e: any) => e.code === 'InvalidAccessKeyId.NotFound' && e.statusCode === 404);
  });

  it("removing a RAM user removes its keys; another account's key cannot be managed as this account's", async () => {
    const account = (await server.store.identity.getAccount(server.accountId))!;
    await addUser(server.store, account, 'temp');
    const key = await addKey(server.store, server.vault, account, 'temp');
    assert.equal((await rpc(server.url, 'DescribeRefreshQuota', {}, { accessKeyId: key.accessKeyId, secret: key.secret })).json.Code, 'Forbidden.RAM');
    await removeUser(server.store, account, 'temp');
    assert.equal((await rpc(server.url, 'DescribeRefreshQuota', {}, { accessKeyId: key.accessKeyId, secret: key.secret })).json.Code, 'InvalidAccessKeyId.NotFound');
    const other = await addAccount(server.store, server.vault, 'someone-else');
    await assert.rejects(setKeyActive(server.store, other.key.accessKeyId, false, account), /no AccessKey/);
    await assert.rejects(deleteKey(server.store, other.key.accessKeyId, account), /no AccessKey/);
    assert.equal((await server.store.identity.findAccessKey(other.key.accessKeyId))?.active, true);
  });
});

describe('secrets at rest', () => {
  it('are sealed (AES-256-GCM) in the store: no secret appears in the database files', async () => {
    const account = (await server.store.identity.getAccount(server.accountId))!;
    const secrets = [(await addKey(server.store, server.vault, account)).secret, 'TestSecretKey0123456789abcdef'];
    for (const k of await server.store.identity.listAccessKeys()) assert.match(k.secretCipher, /^gcm1:[A-Za-z0-9+/]+=*$/);
    for (const file of readdirSync(server.dataDir).filter((f) => f.startsWith('refreshd.db'))) {
      const bytes = readFileSync(join(server.dataDir, file));
      for (const s of secrets) assert.equal(bytes.indexOf(s), -1, `${s} found in ${file}`);
    }
  });

  it('a sealed secret opens only under its own AccessKeyId and master key', () => {
    const box = new SecretBox(Buffer.alloc(32, 1));
    const sealed = box.seal('s3cret', 'LTAIone');
    assert.notEqual(box.seal('s3cret', 'LTAIone'), sealed, 'a fresh IV each time');
    assert.equal(box.open(sealed, 'LTAIone'), 's3cret');
    assert.throws(() => box.open(sealed, 'LTAItwo'), /does not open/);
    assert.throws(() => new SecretBox(Buffer.alloc(32, 2)).open(sealed, 'LTAIone'), /does not open/);
    assert.throws(() => box.open('gcm1:AAAA', 'LTAIone'), /truncated/);
  });
});

describe('the master key', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'refreshd-mk-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is created on first use as <dataDir>/master.key with mode 0600, then reused', () => {
    const dir = freshDir();
    const first = loadMasterKey({}, dir);
    const file = join(dir, 'master.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.deepEqual(loadMasterKey({}, dir).key, first.key);
    assert.equal(first.source, file);
  });

  it('comes from REFRESHD_MASTER_KEY (hex or base64) when set, and no file is made', () => {
    const dir = freshDir();
    const key = Buffer.alloc(32, 7);
    assert.deepEqual(loadMasterKey({ REFRESHD_MASTER_KEY: key.toString('hex') }, dir).key, key);
    assert.deepEqual(loadMasterKey({ REFRESHD_MASTER_KEY: key.toString('base64') }, dir).key, key);
    assert.deepEqual(loadMasterKey({ REFRESHD_MASTER_KEY: key.toString('base64url') }, dir).key, key);
    assert.equal(existsSync(join(dir, 'master.key')), false);
    assert.throws(() => loadMasterKey({ REFRESHD_MASTER_KEY: 'abcd' }, dir), /32-byte key/);
  });

  it('refuses a key file others can read', () => {
    const dir = freshDir();
    loadMasterKey({}, dir);
    chmodSync(join(dir, 'master.key'), 0o644);
    assert.throws(() => loadMasterKey({}, dir), /readable by other users.*chmod 600/);
  });

  it('must be the key the store was sealed with: another one is refused with a clear message', async () => {
    const dir = freshDir();
    const store = new SqliteStore(join(dir, 'refreshd.db'));
    try {
      const box = await openVault(store, {}, dir);
      const { created } = await ensureRootAccount(store, {}, async () => box);
      assert.ok(created);
      await assert.rejects(openVault(store, { REFRESHD_MASTER_KEY: 'ab'.repeat(32) }, dir), /sealed with a different master key than REFRESHD_MASTER_KEY/);
      const sameKey = readFileSync(join(dir, 'master.key'), 'utf8').trim();
      const again = await openVault(store, { REFRESHD_MASTER_KEY: sameKey }, freshDir());
      const root = (await store.identity.listAccessKeys())[0];
      assert.equal(again.open(root.secretCipher, root.accessKeyId), created.secret);
    } finally {
      await store.close();
    }
  });

  it('seals secrets left in the clear by the schema migration the first time it is opened', async () => {
    const dir = freshDir();
    const store = new SqliteStore(join(dir, 'refreshd.db'));
    try {
      const account = await store.identity.createAccount({ uid: '1000000000000077', name: 'old', createdAt: 0 });
      // What migration 3 leaves of a key written before secrets were sealed.
      await store.identity.createAccessKey({ accessKeyId: 'LTAIfromBefore', secretCipher: 'plain:old-secret', accountId: account.id, userName: null, active: true, createdAt: 0 });
      const box = await openVault(store, {}, dir);
      const sealed = (await store.identity.findAccessKey('LTAIfromBefore'))!.secretCipher;
      assert.match(sealed, /^gcm1:/);
      assert.equal(box.open(sealed, 'LTAIfromBefore'), 'old-secret');
    } finally {
      await store.close();
    }
  });

  it('REFRESHD_ACCESS_KEY_ID/SECRET: the bootstrap pair is sealed too, and a different secret for it is refused', async () => {
    const dir = freshDir();
    const store = new SqliteStore(join(dir, 'refreshd.db'));
    try {
      const box = await openVault(store, {}, dir);
      const env = { REFRESHD_ACCESS_KEY_ID: 'LTAIbootstrap', REFRESHD_ACCESS_KEY_SECRET: 'boot-secret' };
      assert.equal((await ensureRootAccount(store, env, async () => box)).created, undefined);
      assert.match((await store.identity.findAccessKey('LTAIbootstrap'))!.secretCipher, /^gcm1:/);
      await ensureRootAccount(store, env, async () => box);
      await assert.rejects(ensureRootAccount(store, { ...env, REFRESHD_ACCESS_KEY_SECRET: 'other' }, async () => box), /another secret or owner/);
    } finally {
      await store.close();
    }
  });
});
