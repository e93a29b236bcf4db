import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cdn, cdnClient } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { adminCli } from '../helpers/admin-cli.js';
import { withinCredentialTtl } from '../helpers/credentials.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * `refreshd account|user|key|policy|domain` against the data dir of a running server: what the
 * commands change takes effect on the server's next call — a key's or an account's state within
 * CREDENTIAL_TTL_MS (the server caches credentials that briefly) — and secrets are printed once
 * and only once.
 */
let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const { ok, fails } = adminCli(() => server.dataDir);

describe('identity admin commands', () => {
  let acme: { accessKeyId: string; accessKeySecret: string; uid: string };
  let deployer: { accessKeyId: string; accessKeySecret: string };
  const call = (c: { accessKeyId: string; accessKeySecret: string }, action: string, params: Record<string, string> = {}, version?: string) =>
    rpc(server.url, action, params, { accessKeyId: c.accessKeyId, secret: c.accessKeySecret, version });
  /** After a CLI command changed a key or account: the call's answer once the change is in force (within the bound). */
  const once = (code: string | 200, c: { accessKeyId: string; accessKeySecret: string }, action: string, params: Record<string, string> = {}, version?: string) =>
    withinCredentialTtl(() => call(c, action, params, version), (r) => (code === 200 ? r.status === 200 : r.json.Code === code));

  it('account add prints a root AccessKey pair once; the account has its own domains', async () => {
    acme = JSON.parse(ok('account', 'add', 'acme', '--json'));
    assert.match(acme.accessKeyId, /^LTAI\w{20}$/);
    assert.match(acme.accessKeySecret, /^\w{30}$/);
    const text = ok('account', 'add', 'globex');
    assert.match(text, /created account globex \(uid \d{16}\); its AccessKey pair is shown this once:\n {2}AccessKeyId: {5}LTAI\w{20}\n {2}AccessKeySecret: \w{30}\n/);
    fails(/already exists/, 'account', 'add', 'acme');
    fails(/not an account name/, 'account', 'add', 'no spaces');
    const list = JSON.parse(ok('account', 'list', '--json'));
    assert.deepEqual(list.map((a: any) => [a.name, a.keys]), [['root', 1], ['acme', 1], ['globex', 1]]);
    assert.ok(!ok('account', 'list').includes(acme.accessKeySecret));

    ok('domain', 'add', 'shop.acme.test', '--account', 'acme');
    ok('domain', 'add', 'www.root.test');
    assert.deepEqual(JSON.parse(ok('domain', 'list', '--account', 'acme', '--json')).map((d: any) => d.name), ['shop.acme.test']);
    assert.match(ok('domain', 'list'), /shop\.acme\.test\tcdn\tonline\tgroup=default\t-\taccount=acme/);
    fails(/no account nobody/, 'domain', 'add', 'x.nobody.test', '--account', 'nobody');

    assert.equal((await call(acme, 'RefreshObjectCaches', { ObjectPath: 'shop.acme.test/a' })).status, 200);
    assert.equal((await call(acme, 'RefreshObjectCaches', { ObjectPath: 'www.root.test/a' })).json.Code, 'InvalidDomain.NotFound');
    assert.equal((await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'shop.acme.test/a' })).json.Code, 'InvalidDomain.NotFound', 'root cannot touch acme’s domain');
  });

  it('a RAM user can do nothing until a policy is attached; detached, it is refused again', async () => {
    ok('user', 'add', 'deployer', '--account', 'acme', '--display-name', 'CI deployer');
    fails(/already exists/, 'user', 'add', 'deployer', '--account', 'acme');
    deployer = JSON.parse(ok('key', 'create', '--account', 'acme', '--user', 'deployer', '--json'));
    fails(/no user ghost/, 'key', 'create', '--account', 'acme', '--user', 'ghost');
    assert.equal((await call(deployer, 'RefreshObjectCaches', { ObjectPath: 'shop.acme.test/b' })).json.Code, 'Forbidden.RAM');

    const file = join(server.dataDir, 'purge.json');
    writeFileSync(file, JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['cdn:RefreshObjectCaches', 'cdn:Describe*'], Resource: '*' }] }));
    ok('policy', 'create', 'purge-only', '--file', file, '--account', 'acme', '--description', 'CI purges');
    writeFileSync(join(server.dataDir, 'bad.json'), JSON.stringify({ Version: '1', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }));
    fails(/Effect must be "Allow" or "Deny"/, 'policy', 'create', 'bad', '--file', join(server.dataDir, 'bad.json'), '--account', 'acme');
    ok('policy', 'attach', 'purge-only', '--user', 'deployer', '--account', 'acme');
    fails(/already attached/, 'policy', 'attach', 'purge-only', '--user', 'deployer', '--account', 'acme');
    fails(/no policy purge-only in account root/, 'policy', 'attach', 'purge-only', '--user', 'deployer');

    assert.equal((await call(deployer, 'RefreshObjectCaches', { ObjectPath: 'shop.acme.test/b' })).status, 200);
    assert.equal((await call(deployer, 'PushObjectCache', { ObjectPath: 'shop.acme.test/b' })).json.Code, 'Forbidden.RAM');
    const listed = JSON.parse(ok('policy', 'list', '--account', 'acme', '--json'));
    assert.deepEqual(listed.map((p: any) => [p.name, p.description, p.users]), [['purge-only', 'CI purges', ['deployer']]]);
    assert.deepEqual(JSON.parse(ok('policy', 'show', 'purge-only', '--account', 'acme')).Statement[0].Effect, 'Allow');
    const users = JSON.parse(ok('user', 'list', '--account', 'acme', '--json'));
    assert.deepEqual(users.map((u: any) => [u.name, u.displayName, u.policies, u.accessKeys.length]), [['deployer', 'CI deployer', ['purge-only'], 1]]);

    fails(/attached to deployer; detach it first/, 'policy', 'delete', 'purge-only', '--account', 'acme');
    ok('policy', 'detach', 'purge-only', '--user', 'deployer', '--account', 'acme');
    assert.equal((await call(deployer, 'RefreshObjectCaches', { ObjectPath: 'shop.acme.test/c' })).json.Code, 'Forbidden.RAM');
    ok('policy', 'delete', 'purge-only', '--account', 'acme');
    assert.deepEqual(JSON.parse(ok('policy', 'list', '--account', 'acme', '--json')), []);
  });

  it('keys are listed without secrets, disabled, enabled and deleted — only within their account', async () => {
    const keys = JSON.parse(ok('key', 'list', '--account', 'acme', '--json'));
    assert.deepEqual(keys.map((k: any) => [k.accessKeyId, k.user, k.status]), [[acme.accessKeyId, null, 'Active'], [deployer.accessKeyId, 'deployer', 'Active']]);
    assert.deepEqual(JSON.parse(ok('key', 'list', '--account', 'acme', '--user', 'deployer', '--json')).map((k: any) => k.accessKeyId), [deployer.accessKeyId]);
    const text = ok('key', 'list', '--account', 'acme');
    for (const s of [acme.accessKeySecret, deployer.accessKeySecret]) assert.ok(!text.includes(s) && !JSON.stringify(keys).includes(s));

    ok('key', 'disable', acme.accessKeyId, '--account', 'acme');
    await once('InvalidAccessKeyId.Inactive', acme, 'DescribeRefreshQuota');
    await assert.rejects(
      cdnClient(server.hostPort, 'v3', { id: acme.accessKeyId, secret: acme.accessKeySecret }).describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({})),
      (e: any) => e.code === 'InvalidAccessKeyId.Inactive',
    );
    ok('key', 'enable', acme.accessKeyId);
    await once(200, acme, 'DescribeRefreshQuota');

    fails(/no AccessKey .* in account globex/, 'key', 'delete', acme.accessKeyId, '--account', 'globex');
    const second = JSON.parse(ok('key', 'create', '--account', 'acme', '--json'));
    ok('key', 'delete', acme.accessKeyId);
    await once('InvalidAccessKeyId.NotFound', acme, 'DescribeRefreshQuota');
    assert.equal((await call(second, 'DescribeRefreshQuota')).status, 200);
    acme = { ...acme, ...second };
    fails(/no AccessKey/, 'key', 'disable', 'LTAInothingHere');
  });

  it('account suspend refuses the account’s calls (per product) until resumed; user remove takes its keys', async () => {
    assert.match(ok('account', 'suspend', 'acme', '--product', 'cdn'), /acme: cdn=suspended vod=active/);
    await once('OperationDenied.Suspended', acme, 'DescribeRefreshQuota');
    assert.equal((await call(acme, 'DescribeVodRefreshQuota', {}, '2017-03-21')).status, 200);
    assert.equal((await rpc(server.url, 'DescribeRefreshQuota', {})).status, 200, 'other accounts are not affected');
    ok('account', 'resume', 'acme');
    await once(200, acme, 'DescribeRefreshQuota');
    fails(/no account nobody/, 'account', 'suspend', 'nobody');

    ok('user', 'remove', 'deployer', '--account', 'acme');
    await once('InvalidAccessKeyId.NotFound', deployer, 'DescribeRefreshQuota');
    assert.deepEqual(JSON.parse(ok('user', 'list', '--account', 'acme', '--json')), []);
    fails(/no user deployer/, 'user', 'remove', 'deployer', '--account', 'acme');
  });
});
