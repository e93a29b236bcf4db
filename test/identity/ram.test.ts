import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addKey, addPolicy, addUser, attachPolicy, detachPolicy } from '../../src/identity/admin.js';
import type { Account } from '../../src/store/port.js';
import { Cdn, cdnClient, popClient, popRequest } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * RAM users and policies, through a listening server and the official clients: root keys may do
 * everything in their account; a RAM user only what its attached policies allow (Deny over
 * Allow, wildcard and case-insensitive actions, domain resources for DescribeRefreshTasks);
 * a refusal is Forbidden.RAM 403 with an AccessDeniedDetail the SDK reads.
 */
let server: TestServer;
let account: Account;
const creds: Record<string, { id: string; secret: string }> = {};
const VOD = { version: '2017-03-21' };

const statement = (Effect: 'Allow' | 'Deny', Action: string | string[], Resource: string | string[] = '*') => ({ Effect, Action, Resource });
const policyDoc = (...Statement: object[]) => JSON.stringify({ Version: '1', Statement });
const domainArn = (d: string) => `acs:cdn:*:${account.uid}:domain/${d}`;

/** A RAM user with one key and these policies (created now), for the tests below. */
async function user(name: string, ...policies: [string, string][]) {
  await addUser(server.store, account, name);
  for (const [policyName, document] of policies) {
    if (!(await server.store.identity.findPolicy(account.id, policyName))) await addPolicy(server.store, account, policyName, document);
    await attachPolicy(server.store, account, policyName, name);
  }
  const key = await addKey(server.store, server.vault, account, name);
  creds[name] = { id: key.accessKeyId, secret: key.secret };
}

const sdk = (name: string) => cdnClient(server.hostPort, 'v3', creds[name]);
const as = (name: string, action: string, params: Record<string, string | number> = {}, o: object = {}) =>
  rpc(server.url, action, params, { accessKeyId: creds[name].id, secret: creds[name].secret, ...o });

before(async () => {
  server = await startTestServer();
  account = (await server.store.identity.getAccount(server.accountId))!;
  for (const d of ['a.example.com', 'b.example.com']) await server.addDomain(d);
  await server.addDomain('v.example.com', 'vod');
  await user('nobody');
  await user('reader', ['cdn-readonly', policyDoc(statement('Allow', 'cdn:Describe*'))]);
  await user('pusher', ['cdn-all', policyDoc(statement('Allow', 'cdn:*'))], ['no-preload', policyDoc(statement('Deny', ['cdn:PushObjectCache', 'vod:Preload*']))]);
  await user('shouty', ['shouty', policyDoc(statement('Allow', ['CDN:DESCRIBEREFRESHQUOTA', 'Vod:describe*quota']))]);
  await user('scoped', ['a-only', policyDoc(statement('Allow', 'cdn:DescribeRefreshTasks', domainArn('a.example.com')))]);
  await user('anydomain', ['any-domain', policyDoc(statement('Allow', 'cdn:DescribeRefreshTasks', domainArn('*')), statement('Deny', '*', domainArn('b.*')))]);
  await user('tagger', ['tags-on-a', policyDoc(statement('Allow', ['cdn:RefreshObjectCacheByCacheTag', 'cdn:DescribeCdnUserQuota'], [domainArn('a.example.com'), '*']), statement('Deny', 'cdn:RefreshObjectCacheByCacheTag', domainArn('b.example.com')))]);
  await user('elsewhere', ['other-account', policyDoc(statement('Allow', '*', 'acs:cdn:*:9999999999999999:domain/*'))]);
  creds.root = { id: (await server.store.identity.listAccessKeys(account.id)).find((k) => k.userName === null)!.accessKeyId, secret: 'TestSecretKey0123456789abcdef' };
});
after(() => server.close());

describe('root keys', () => {
  it('may call every action of both products in their own account', async () => {
    for (const [action, params, o] of [
      ['DescribeRefreshQuota', {}, {}], ['RefreshObjectCaches', { ObjectPath: 'a.example.com/x' }, {}], ['PushObjectCache', { ObjectPath: 'b.example.com/y' }, {}],
      ['DescribeRefreshTasks', { DomainName: 'b.example.com', ObjectType: 'file' }, {}], ['DescribeVodRefreshQuota', {}, VOD],
      ['RefreshVodObjectCaches', { ObjectPath: 'v.example.com/z' }, VOD],
    ] as const) {
      const res = await as('root', action, params, o);
      assert.equal(res.status, 200, `${action}: ${res.text}`);
    }
  });
});

describe('a RAM user', () => {
  it('with no policy is refused everything: Forbidden.RAM 403 with the AccessDeniedDetail the SDK reads', async () => {
    await assert.rejects(sdk('nobody').describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({})), (e: any) => {
      assert.equal(e.code, 'Forbidden.RAM');
      assert.equal(e.statusCode, 403);
      const { EncodedDiagnosticMessage, ...detail } = e.accessDeniedDetail;
      assert.deepEqual(detail, {
        AuthAction: 'cdn:DescribeRefreshQuota', AuthPrincipalDisplayName: 'nobody', AuthPrincipalOwnerId: account.uid,
        AuthPrincipalType: 'SubUser', NoPermissionType: 'ImplicitDeny', PolicyType: 'AccountLevelIdentityBasedPolicy',
      });
      assert.deepEqual(JSON.parse(Buffer.from(EncodedDiagnosticMessage, 'base64').toString()), { AuthAction: 'cdn:DescribeRefreshQuota', AuthResource: '*', NoPermissionType: 'ImplicitDeny' });
      return true;
    });
    const pop = popClient(server.url, '2018-05-10', creds.nobody);
    await assert.rejects(popRequest(pop, 'RefreshObjectCaches', { ObjectPath: 'a.example.com/x' }), (e: any) => e.code === 'Forbidden.RAM');
    const xml = await as('nobody', 'DescribeRefreshQuota', {}, { format: 'XML' });
    assert.equal(xml.status, 403);
    assert.match(xml.text, /<Code>Forbidden\.RAM<\/Code>.*<AccessDeniedDetail><AuthAction>cdn:DescribeRefreshQuota<\/AuthAction>.*<NoPermissionType>ImplicitDeny<\/NoPermissionType>/s);
  });

  it('with cdn:Describe* may describe, but not submit, and nothing of VOD', async () => {
    assert.equal((await sdk('reader').describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({}))).statusCode, 200);
    assert.equal((await as('reader', 'DescribeRefreshTasks', {})).status, 200);
    assert.equal((await as('reader', 'DescribeRefreshTaskNodes', { TaskId: '17000000001' })).status, 200);
    await assert.rejects(sdk('reader').refreshObjectCaches(new Cdn.RefreshObjectCachesRequest({ objectPath: 'a.example.com/x' })), (e: any) =>
      e.code === 'Forbidden.RAM' && e.accessDeniedDetail.AuthAction === 'cdn:RefreshObjectCaches' && e.accessDeniedDetail.NoPermissionType === 'ImplicitDeny');
    assert.equal((await as('reader', 'DescribeVodRefreshQuota', {}, VOD)).json.Code, 'Forbidden.RAM');
  });

  it('sees its account’s tasks and submits into its account', async () => {
    const submitted = await as('pusher', 'RefreshObjectCaches', { ObjectPath: 'a.example.com/by-pusher' });
    assert.equal(submitted.status, 200, submitted.text);
    const seen = await as('root', 'DescribeRefreshTaskById', { TaskId: submitted.json.RefreshTaskId });
    assert.deepEqual(seen.json.Tasks.map((t: any) => t.ObjectPath), ['a.example.com/by-pusher']);
    const byReader = await as('reader', 'DescribeRefreshTaskById', { TaskId: submitted.json.RefreshTaskId });
    assert.equal(byReader.json.TotalCount, 1);
  });

  it('Deny wins over Allow: cdn:* allowed, PushObjectCache explicitly denied', async () => {
    assert.equal((await as('pusher', 'DescribeRefreshQuota')).status, 200);
    const res = await as('pusher', 'PushObjectCache', { ObjectPath: 'a.example.com/warm' });
    assert.equal(res.status, 403);
    assert.equal(res.json.Code, 'Forbidden.RAM');
    assert.equal(res.json.AccessDeniedDetail.NoPermissionType, 'ExplicitDeny');
    assert.equal(JSON.parse(Buffer.from(res.json.AccessDeniedDetail.EncodedDiagnosticMessage, 'base64').toString()).PolicyName, 'no-preload');
    // Nothing was stored for the refused call.
    assert.equal((await as('root', 'DescribeRefreshTasks', { ObjectPath: 'a.example.com/warm' })).json.TotalCount, 0);
  });

  it('matches actions case-insensitively and with wildcards, across products', async () => {
    assert.equal((await as('shouty', 'DescribeRefreshQuota')).status, 200);
    assert.equal((await as('shouty', 'DescribeVodRefreshQuota', {}, VOD)).status, 200);
    assert.equal((await as('shouty', 'DescribeRefreshTasks')).json.Code, 'Forbidden.RAM');
  });

  it('DescribeRefreshTasks is checked against each domain named in DomainName', async () => {
    const tasks = (name: string, DomainName?: string) => as(name, 'DescribeRefreshTasks', DomainName === undefined ? {} : { DomainName, ObjectType: 'file' });
    assert.equal((await tasks('scoped', 'a.example.com')).status, 200);
    assert.equal((await tasks('scoped', 'A.Example.com')).status, 200, 'domain names are compared lower-cased');
    const other = await tasks('scoped', 'b.example.com');
    assert.equal(other.status, 403);
    assert.deepEqual(JSON.parse(Buffer.from(other.json.AccessDeniedDetail.EncodedDiagnosticMessage, 'base64').toString()).AuthResource, domainArn('b.example.com'));
    assert.equal((await tasks('scoped', 'a.example.com,b.example.com')).status, 403, 'every named domain must be allowed');
    assert.equal((await tasks('scoped')).status, 403, 'no DomainName: the resource is domain/*, which a.example.com does not cover');
    assert.equal((await as('scoped', 'DescribeRefreshTaskById', { TaskId: '17000000001' })).status, 403, 'other actions need Resource *');

    assert.equal((await tasks('anydomain')).status, 200, 'domain/* allows the unfiltered list');
    assert.equal((await tasks('anydomain', 'a.example.com')).status, 200);
    assert.equal((await tasks('anydomain', 'b.example.com')).json.AccessDeniedDetail.NoPermissionType, 'ExplicitDeny');
    assert.equal((await tasks('elsewhere', 'a.example.com')).status, 403, "another account's resources grant nothing here");
  });

  it('RefreshObjectCacheByCacheTag is checked against its DomainName; the new describes need their own action', async () => {
    const purge = (name: string, DomainName: string) => as(name, 'RefreshObjectCacheByCacheTag', { CacheTag: 'sale', DomainName });
    assert.equal((await purge('tagger', 'a.example.com')).status, 200);
    const denied = await purge('tagger', 'b.example.com');
    assert.equal(denied.json.AccessDeniedDetail.NoPermissionType, 'ExplicitDeny');
    assert.deepEqual(JSON.parse(Buffer.from(denied.json.AccessDeniedDetail.EncodedDiagnosticMessage, 'base64').toString()).AuthAction, 'cdn:RefreshObjectCacheByCacheTag');
    assert.equal((await purge('reader', 'a.example.com')).json.Code, 'Forbidden.RAM', 'cdn:Describe* does not purge');
    assert.equal((await as('reader', 'DescribeCdnUserQuota')).status, 200, 'cdn:Describe* covers the new describes');
    assert.equal((await as('reader', 'DescribePreloadDetailById', { TaskId: '17000000001' })).status, 200);
    assert.equal((await as('tagger', 'DescribeCdnUserQuota')).status, 200);
    assert.equal((await as('tagger', 'DescribePreloadDetailById', { TaskId: '17000000001' })).json.Code, 'Forbidden.RAM');
  });

  it('gains and loses rights on the call right after a policy is attached or detached', async () => {
    const grant = policyDoc(statement('Allow', 'cdn:DescribeRefreshQuota'));
    await addPolicy(server.store, account, 'quota-only', grant);
    assert.equal((await as('nobody', 'DescribeRefreshQuota')).status, 403);
    await attachPolicy(server.store, account, 'quota-only', 'nobody');
    assert.equal((await as('nobody', 'DescribeRefreshQuota')).status, 200);
    await detachPolicy(server.store, account, 'quota-only', 'nobody');
    assert.equal((await as('nobody', 'DescribeRefreshQuota')).status, 403);
  });
});
