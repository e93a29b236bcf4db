import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * VerifyUrl (refreshd extension) through the API: samples in the purge's scope are accepted and
 * stored with the task of their domain; anything else is InvalidParameter naming the parameter
 * and, after the catalogue message, what is wrong with which sample. A catastrophic expression
 * is refused in bounded time instead of holding the server.
 */
let server: TestServer;
before(async () => {
  server = await startTestServer();
  await server.addDomain('a.example.com');
  await server.addDomain('b.example.com');
  await server.addDomain('vod.example.com', 'vod');
});
after(() => server.close());

/** tasks.verify_urls of these tasks, by domain. */
function stored(taskIds: string): Record<string, string | null> {
  const rows = server.store.raw.prepare(`SELECT domain, verify_urls FROM tasks WHERE id IN (${taskIds.split(',').map(Number).join(',')})`).all() as { domain: string; verify_urls: string | null }[];
  return Object.fromEntries(rows.map((r) => [r.domain, r.verify_urls]));
}

async function refused(action: string, params: Record<string, string>, detail: RegExp, version?: string): Promise<void> {
  const res = await rpc(server.url, action, params, { method: 'POST', version });
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json.Code, 'InvalidParameter');
  assert.match(res.json.Message, /^The specified value of parameter "VerifyUrl" is not valid\. /);
  assert.match(res.json.Message, detail);
}

describe('VerifyUrl', () => {
  it('Directory over two domains: each task keeps the samples of its own domain', async () => {
    const res = await rpc(server.url, 'RefreshObjectCaches', {
      ObjectPath: 'http://a.example.com/img/\nb.example.com/css/\nb.example.com/js/',
      ObjectType: 'Directory',
      VerifyUrl: 'http://a.example.com/img/logo.png\r\nb.example.com/css/site.css?v=3\nb.example.com/js/deep/app.js\nb.example.com/css/site.css?v=3',
    }, { method: 'POST' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(stored(res.json.RefreshTaskId), {
      'a.example.com': 'http://a.example.com/img/logo.png',
      'b.example.com': 'b.example.com/css/site.css?v=3\nb.example.com/js/deep/app.js',
    });
  });

  it('Regex, IgnoreParams, a cache tag and VOD accept samples in scope; none given stores none', async () => {
    const regex = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'a.example.com/rx/.*\\.css', ObjectType: 'Regex', VerifyUrl: 'a.example.com/rx/x/y.css?z=1' });
    assert.equal(regex.status, 200, regex.text);
    assert.deepEqual(stored(regex.json.RefreshTaskId), { 'a.example.com': 'a.example.com/rx/x/y.css?z=1' });
    const ignore = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'a.example.com/app.js?v=1', ObjectType: 'IgnoreParams', VerifyUrl: 'a.example.com/app.js?v=2' });
    assert.equal(ignore.status, 200, ignore.text);
    const tag = await rpc(server.url, 'RefreshObjectCacheByCacheTag', { CacheTag: 'sale,new', DomainName: 'A.example.com', VerifyUrl: 'https://a.example.com/p/42' });
    assert.equal(tag.status, 200, tag.text);
    assert.deepEqual(stored(tag.json.RefreshTaskId), { 'a.example.com': 'https://a.example.com/p/42' });
    const vod = await rpc(server.url, 'RefreshVodObjectCaches', { ObjectPath: 'vod.example.com/v/', ObjectType: 'Directory', VerifyUrl: 'vod.example.com/v/1.mp4' }, { version: '2017-03-21' });
    assert.equal(vod.status, 200, vod.text);
    const none = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'a.example.com/none/', ObjectType: 'Directory' });
    assert.deepEqual(stored(none.json.RefreshTaskId), { 'a.example.com': null });
  });

  it('a ClientToken retry with the same samples replays; with other samples it is IdempotentParameterMismatch', async () => {
    const call = (samples: string) => rpc(server.url, 'RefreshObjectCaches', {
      ObjectPath: 'a.example.com/tok/', ObjectType: 'Directory', ClientToken: 'vu-token-1', VerifyUrl: samples,
    }, { method: 'POST' });
    const first = await call('a.example.com/tok/a.png\na.example.com/tok/b.png');
    assert.equal(first.status, 200, first.text);
    const again = await call('a.example.com/tok/a.png\r\na.example.com/tok/b.png\n');
    assert.equal(again.json.RefreshTaskId, first.json.RefreshTaskId, 'the same samples, spelled otherwise: the same call');
    const other = await call('a.example.com/tok/c.png');
    assert.equal(other.status, 400, other.text);
    assert.equal(other.json.Code, 'IdempotentParameterMismatch');
  });

  it('says what is wrong with which sample', async () => {
    await refused('RefreshObjectCaches', { ObjectPath: 'a.example.com/a.css', VerifyUrl: 'a.example.com/a.css' }, /a File refresh is verified on its own URLs\.$/);
    await refused('RefreshObjectCaches', { ObjectPath: 'a.example.com/img/', ObjectType: 'Directory', VerifyUrl: 'a.example.com/imgs/a.png' },
      /a\.example\.com\/imgs\/a\.png is not under a directory of this call\.$/);
    await refused('RefreshObjectCaches', { ObjectPath: 'a.example.com/img/', ObjectType: 'Directory', VerifyUrl: 'b.example.com/img/a.png' },
      /b\.example\.com\/img\/a\.png is not on a domain of this call\.$/);
    await refused('RefreshObjectCaches', { ObjectPath: 'a.example.com/rx/.*\\.css', ObjectType: 'Regex', VerifyUrl: 'a.example.com/other/rx/a.css' },
      /is not matched by the regular expression of this call\.$/);
    await refused('RefreshObjectCaches', { ObjectPath: 'a.example.com/app.js', ObjectType: 'IgnoreParams', VerifyUrl: 'a.example.com/app.jsx' },
      /is not a URL of this call \(with any query\)\.$/);
    await refused('RefreshObjectCaches', { ObjectPath: 'a.example.com/img/', ObjectType: 'Directory', VerifyUrl: 'a.example.com:0/img/a.png' }, /the port must be 1–65535/);
    await refused('RefreshObjectCaches', { ObjectPath: 'a.example.com/img/', ObjectType: 'Directory', VerifyUrl: Array.from({ length: 11 }, (_, i) => `a.example.com/img/${i}`).join('\n') },
      /At most 10 sample URLs are supported for each request\.$/);
    await refused('RefreshObjectCacheByCacheTag', { CacheTag: 'sale', DomainName: 'a.example.com', VerifyUrl: 'b.example.com/p/1' }, /is not on a domain of this call\.$/);
    await refused('RefreshVodObjectCaches', { ObjectPath: 'vod.example.com/v/', ObjectType: 'Directory', VerifyUrl: 'vod.example.com/w/1.mp4' }, /is not under a directory/, '2017-03-21');
  });

  it('a catastrophic expression is refused in bounded time, and the server answers others meanwhile', async () => {
    const started = Date.now();
    const order: string[] = [];
    const bad = refused('RefreshObjectCaches', { ObjectPath: 'a.example.com/(a+)+b', ObjectType: 'Regex', VerifyUrl: 'a.example.com/' + 'a'.repeat(48) },
      /matching a\.example\.com\/a+ against the regular expression took longer than 250 ms\.$/).then(() => order.push('regex'));
    await new Promise((r) => setTimeout(r, 50));
    const ok = await rpc(server.url, 'DescribeRefreshQuota', {});
    order.push('quota');
    assert.equal(ok.status, 200);
    await bad;
    assert.deepEqual(order, ['quota', 'regex'], 'answered while the expression was being matched');
    assert.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
    // The matcher recovers: the next expression is matched as usual.
    const next = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'a.example.com/(a+)+b', ObjectType: 'Regex', VerifyUrl: 'a.example.com/aab' });
    assert.equal(next.status, 200, next.text);
  });
});
