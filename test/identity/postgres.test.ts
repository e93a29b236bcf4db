import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeLogger, startServer, type Running } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { addAccount, addKey, addPolicy, addUser, attachPolicy, setKeyActive } from '../../src/identity/admin.js';
import { openVault } from '../../src/identity/vault.js';
import { CREDENTIAL_TTL_MS } from '../../src/store/credential-cache.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { rpc } from '../helpers/rpc.js';
import { startPgCluster } from '../store/pg-cluster.js';

/**
 * Identity on the PostgreSQL store, end to end: two API servers (as on two hosts) share one
 * database and one master key (REFRESHD_MASTER_KEY); keys, policies and key status changes made
 * through one are in force on the other at once; both write one audit log. A process holding
 * another master key refuses to start.
 */
const cluster = await startPgCluster();
const dataDirs: string[] = [];
const MASTER = 'ab'.repeat(32);
const env = { REFRESHD_MASTER_KEY: MASTER, REFRESHD_ACCESS_KEY_ID: 'LTAIpgRootKey000001', REFRESHD_ACCESS_KEY_SECRET: 'pg-root-secret' };
let url: string;
const stores: PostgresStore[] = [];
const servers: Running[] = [];

async function apiProcess(envFor: NodeJS.ProcessEnv): Promise<{ store: PostgresStore; running: Running }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'refreshd-pgid-'));
  dataDirs.push(dataDir);
  const store = await PostgresStore.open(url);
  stores.push(store);
  const running = await startServer(loadConfig({ dataDir, store: url, listen: { host: '127.0.0.1', port: 0 }, rateLimits: false }), store, makeLogger('silent'), envFor, false);
  servers.push(running);
  return { store, running };
}

before(async () => {
  url = await cluster.createDatabase();
});
after(async () => {
  for (const s of servers) await s.stop();
  for (const s of stores) await s.close();
  await cluster.stop();
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

describe('identity on PostgreSQL, across two API processes', () => {
  it('shares keys, policies, key status and the audit log', async () => {
    const one = await apiProcess(env);
    const two = await apiProcess(env);
    const box = await openVault(one.store, env, dataDirs[0]);
    const { account, key } = await addAccount(one.store, box, 'pg-tenant');
    await one.store.domains.addDomain({ name: 'pg.example.com', accountId: account.id, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: Date.now() });
    await addUser(one.store, account, 'reader');
    await addPolicy(one.store, account, 'read', JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'cdn:Describe*', Resource: '*' }, { Effect: 'Deny', Action: 'cdn:DescribeRefreshQuota', Resource: '*' }] }));
    await attachPolicy(one.store, account, 'read', 'reader');
    const reader = await addKey(one.store, box, account, 'reader');

    const as = (r: Running, k: { accessKeyId: string; secret: string }, action: string, params: Record<string, string> = {}) =>
      rpc(r.url, action, params, { accessKeyId: k.accessKeyId, secret: k.secret });
    const submitted = await as(two.running, key, 'RefreshObjectCaches', { ObjectPath: 'pg.example.com/a' });
    assert.equal(submitted.status, 200, submitted.text);
    assert.equal((await as(one.running, reader, 'DescribeRefreshTaskById', { TaskId: submitted.json.RefreshTaskId })).json.TotalCount, 1);
    assert.equal((await as(two.running, reader, 'RefreshObjectCaches', { ObjectPath: 'pg.example.com/b' })).json.Code, 'Forbidden.RAM');
    const denied = await as(two.running, reader, 'DescribeRefreshQuota');
    assert.equal(denied.json.AccessDeniedDetail.NoPermissionType, 'ExplicitDeny');
    assert.equal((await rpc(one.running.url, 'DescribeRefreshTaskById', { TaskId: submitted.json.RefreshTaskId }, { accessKeyId: env.REFRESHD_ACCESS_KEY_ID, secret: env.REFRESHD_ACCESS_KEY_SECRET })).json.TotalCount, 0, 'root sees none of the tenant’s tasks');

    await setKeyActive(two.store, reader.accessKeyId, false);
    // Process one may serve the key from its credential cache for up to CREDENTIAL_TTL_MS (the
    // store contract measures that bound); past it, the key is refused there too.
    await sleep(CREDENTIAL_TTL_MS);
    assert.equal((await as(one.running, reader, 'DescribeRefreshTasks')).json.Code, 'InvalidAccessKeyId.Inactive', 'disabled through the other process: in force within the bound');

    await Promise.all([one.running.flushAudit(), two.running.flushAudit()]);
    const audit = await one.store.audit.queryAudit({ accountId: account.id, limit: 100 });
    assert.deepEqual(audit.map((e) => [e.userName, e.action, e.code]).reverse(), [
      [null, 'RefreshObjectCaches', null],
      ['reader', 'DescribeRefreshTaskById', null],
      ['reader', 'RefreshObjectCaches', 'Forbidden.RAM'],
      ['reader', 'DescribeRefreshQuota', 'Forbidden.RAM'],
      ['reader', 'DescribeRefreshTasks', 'InvalidAccessKeyId.Inactive'],
    ]);
    const rows = await one.store.raw`SELECT secret_cipher FROM access_keys`;
    assert.ok(rows.length >= 3 && rows.every((r) => /^gcm1:/.test(r.secret_cipher as string)), 'sealed at rest');
    assert.ok(!JSON.stringify(rows).includes(reader.secret) && !JSON.stringify(rows).includes(env.REFRESHD_ACCESS_KEY_SECRET));
  });

  it('a process with another master key (e.g. a fresh key file on a new host) refuses to start', async () => {
    const { REFRESHD_MASTER_KEY: _, ...withoutKey } = env;
    await assert.rejects(apiProcess(withoutKey), /sealed with a different master key than .*master\.key; set REFRESHD_MASTER_KEY/);
    await assert.rejects(apiProcess({ ...env, REFRESHD_MASTER_KEY: 'cd'.repeat(32) }), /different master key than REFRESHD_MASTER_KEY/);
  });
});
