import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addAccount } from '../../src/identity/admin.js';
import { popClient, popRequest } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * ClientToken on every submit action, through the official pop-core client (the typed CDN SDK
 * has no field for it): a retry with the same token gets the first call's task ids and costs no
 * quota; the same token with other parameters is IdempotentParameterMismatch.
 */
let server: TestServer;
before(async () => {
  server = await startTestServer();
  await server.addDomain('example.com');
  await server.addDomain('img.example.com');
  await server.addDomain('video.example.com', 'vod');
});
after(() => server.close());

const cdn = () => popClient(server.url, '2018-05-10');
const vod = () => popClient(server.url, '2017-03-21');
const quota = async () => {
  const c = await popRequest(cdn(), 'DescribeRefreshQuota', {});
  const v = await popRequest(vod(), 'DescribeVodRefreshQuota', {});
  return { url: c.UrlRemain, dir: c.DirRemain, preload: c.PreloadRemain, vodUrl: v.UrlRemain, vodPreload: v.PreloadRemain };
};
const rows = async () => (await popRequest(cdn(), 'DescribeRefreshTasks', { PageSize: 100 })).TotalCount + (await popRequest(vod(), 'DescribeVodRefreshTasks', { PageSize: 50 })).TotalCount;

async function mismatch(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (err: any) => {
    assert.equal(err.code, 'IdempotentParameterMismatch');
    assert.equal(err.data.Message, 'Request uses a client token in a previous request but is not identical to that request.');
    return true;
  });
}

const SUBMITS = [
  { client: cdn, action: 'RefreshObjectCaches', field: 'RefreshTaskId', params: { ObjectPath: 'http://example.com/a.js\nhttp://img.example.com/b.js' }, other: { ObjectPath: 'http://example.com/c.js' } },
  { client: cdn, action: 'PushObjectCache', field: 'PushTaskId', params: { ObjectPath: 'example.com/p.js', Area: 'domestic' }, other: { ObjectPath: 'example.com/p.js', Area: 'overseas' } },
  { client: cdn, action: 'RefreshObjectCacheByCacheTag', field: 'RefreshTaskId', params: { CacheTag: 'x,y', DomainName: 'example.com' }, other: { CacheTag: 'x,y', DomainName: 'example.com', Force: 'true' } },
  { client: vod, action: 'RefreshVodObjectCaches', field: 'RefreshTaskId', params: { ObjectPath: 'https://video.example.com/v/1.m3u8' }, other: { ObjectPath: 'https://video.example.com/v/', ObjectType: 'Directory' } },
  { client: vod, action: 'PreloadVodObjectCaches', field: 'PreloadTaskId', params: { ObjectPath: 'https://video.example.com/v/1.ts' }, other: { ObjectPath: 'https://video.example.com/v/2.ts' } },
] as const;

describe('ClientToken through pop-core', () => {
  for (const [i, s] of SUBMITS.entries()) {
    it(`${s.action}: a retry gets the same tasks and costs nothing; other parameters are refused`, async () => {
      const token = `retry-${s.action}-${i}`;
      const first = await popRequest(s.client(), s.action, { ...s.params, ClientToken: token }, 'POST');
      assert.match(first[s.field], /^\d{11}(,\d{11})*$/);
      const [q, n] = [await quota(), await rows()];
      for (const method of ['GET', 'POST'] as const) {
        const again = await popRequest(s.client(), s.action, { ...s.params, ClientToken: token }, method);
        assert.equal(again[s.field], first[s.field]);
      }
      assert.deepEqual(await quota(), q, 'no quota charged for the retries');
      assert.equal(await rows(), n, 'no task created by the retries');
      await mismatch(popRequest(s.client(), s.action, { ...s.params, ...s.other, ClientToken: token }));
      const fresh = await popRequest(s.client(), s.action, { ...s.params, ClientToken: `${token}-2` });
      assert.notEqual(fresh[s.field], first[s.field], 'another token is another call');
      const untokened = await popRequest(s.client(), s.action, s.params);
      assert.notEqual(untokened[s.field], first[s.field], 'without a token every call creates tasks');
    });
  }

  it('compares what was asked for, not how it was spelled', async () => {
    const first = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'http://example.com/s1.js\nhttp://example.com/s2.js', ClientToken: 'spelling' });
    for (const same of [
      { ObjectPath: 'http://example.com/s1.js\r\nhttp://example.com/s2.js\n' },
      { ObjectPath: ' http://example.com/s1.js\nhttp://example.com/s2.js\nhttp://example.com/s1.js', ObjectType: 'file', Force: 'false' },
    ]) {
      assert.equal((await popRequest(cdn(), 'RefreshObjectCaches', { ...same, ClientToken: 'spelling' })).RefreshTaskId, first.RefreshTaskId, JSON.stringify(same));
    }
    await mismatch(popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'http://example.com/s2.js\nhttp://example.com/s1.js', ClientToken: 'spelling' }));
    await mismatch(popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'http://example.com/s1.js\nhttp://example.com/s2.js', Force: 'true', ClientToken: 'spelling' }));
    // One account, one token space: the same token on the other product is another call.
    await mismatch(popRequest(vod(), 'RefreshVodObjectCaches', { ObjectPath: 'http://video.example.com/s1.js', ClientToken: 'spelling' }));
    const plain = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://example.com/s3.js', ClientToken: 'spelling' }, { format: 'XML' });
    assert.equal(plain.status, 400);
    assert.match(plain.text, /<Code>IdempotentParameterMismatch<\/Code><Message>Request uses a client token in a previous request but is not identical to that request.<\/Message>/);
  });

  it('is per account: the same token of another account is another call', async () => {
    const { account, key } = await addAccount(server.store, server.vault, 'token-other');
    await server.store.domains.addDomain({ name: 'other.example.com', accountId: account.id, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: Date.now() });
    const mine = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/shared.js', ClientToken: 'shared-token' });
    const theirs = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'other.example.com/shared.js', ClientToken: 'shared-token' }, { accessKeyId: key.accessKeyId, secret: key.secret });
    assert.deepEqual([mine.status, theirs.status], [200, 200]);
    assert.notEqual(theirs.json.RefreshTaskId, mine.json.RefreshTaskId);
  });

  it('takes 1–64 printable ASCII characters, and refuses anything else with InvalidParameter', async () => {
    for (const token of ['x', ' ~!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}', 'a'.repeat(64)]) {
      const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: `example.com/ok-${token.length}.js`, ClientToken: token });
      assert.equal(res.status, 200, `${JSON.stringify(token)}: ${res.text}`);
    }
    for (const token of ['a'.repeat(65), 'é', 'tab\there', 'new\nline', '\u0000']) {
      const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/bad.js', ClientToken: token });
      assert.deepEqual([res.status, res.json.Code, res.json.Message], [400, 'InvalidParameter', 'The specified value of parameter "ClientToken" is not valid.'], JSON.stringify(token));
    }
  });

  it('a call refused (over quota) records no token: the same token may be sent again', async () => {
    const small = await startTestServer({ quotas: { cdn: { url: 2, dir: 10, regex: 1, ignoreParams: 10, preload: 10 }, vod: { url: 10, dir: 10, preload: 10 } } });
    try {
      await small.addDomain('example.com');
      const call = (paths: string[]) => rpc(small.url, 'RefreshObjectCaches', { ObjectPath: paths.join('\n'), ClientToken: 'after-quota' });
      const refused = await call(['example.com/1', 'example.com/2', 'example.com/3']);
      assert.deepEqual([refused.status, refused.json.Code], [400, 'QuotaExceeded.Refresh']);
      const ok = await call(['example.com/1', 'example.com/2']);
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await call(['example.com/1', 'example.com/2'])).json.RefreshTaskId, ok.json.RefreshTaskId, 'and replayed, though the quota is now spent');
    } finally {
      await small.close();
    }
  });
});
