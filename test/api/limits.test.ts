import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Quotas and rate limits as a user sees them: counted honestly, per account, per action. */
let server: TestServer;
before(async () => {
  server = await startTestServer({ rateLimits: true, quotas: { cdn: { url: 10, dir: 2 } } });
  await server.addDomain('example.com');
});
after(() => server.close());

const quota = async () => (await rpc(server.url, 'DescribeRefreshQuota', {})).json;
const waitNextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));

describe('daily quotas', () => {
  it('count accepted paths by type, and a refused call consumes nothing', async () => {
    const start = await quota();
    assert.equal(start.UrlRemain, '10');
    assert.equal((await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/1\nexample.com/2\nexample.com/3' })).status, 200);
    assert.equal((await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/d/', ObjectType: 'Directory' })).status, 200);
    let q = await quota();
    assert.equal(q.UrlRemain, '7');
    assert.equal(q.DirRemain, '1');
    const refused = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: Array.from({ length: 8 }, (_, i) => `example.com/x${i}`).join('\n') });
    assert.equal(refused.json.Code, 'QuotaExceeded.Refresh');
    q = await quota();
    assert.equal(q.UrlRemain, '7', 'the refused call took nothing');
    assert.equal((await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: Array.from({ length: 7 }, (_, i) => `example.com/y${i}`).join('\n') })).status, 200, 'exactly the remainder fits');
    assert.equal((await quota()).UrlRemain, '0');
  });
});

describe('rate limits', () => {
  it('DescribeRefreshTasks allows 5 calls a second, then TooManyRequests until the next second', async () => {
    await waitNextSecond();
    const answers = await Promise.all(Array.from({ length: 8 }, () => rpc(server.url, 'DescribeRefreshTasks', {})));
    const ok = answers.filter((r) => r.status === 200).length;
    // All 8 normally land in one second (5 pass); if they straddle two, at most 10 could pass.
    assert.ok(ok >= 5 && ok < 8, `${ok} passed`);
    const refused = answers.find((r) => r.status === 429)!;
    assert.equal(refused.json.Code, 'TooManyRequests');
    const retryAfter = Number(refused.headers.get('x-acs-retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 1000);
    assert.equal((await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: '17000000001' })).status, 200, 'other actions have their own budget');
    await new Promise((r) => setTimeout(r, retryAfter + 5));
    assert.equal((await rpc(server.url, 'DescribeRefreshTasks', {})).status, 200, 'allowed again after x-acs-retry-after');
  });
});
