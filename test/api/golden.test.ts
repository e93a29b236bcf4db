import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { normalize, rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Whole response bodies, byte for byte after replacing per-run values (request ids, times, task
 * ids), in JSON and XML, for every action and for an error. The golden files under test/golden/
 * were checked against the seeds' examples; `UPDATE_GOLDEN=1 npm test -- golden` rewrites them.
 */
const GOLDEN = join(import.meta.dirname, '..', 'golden');

let server: TestServer;
async function freshServer(): Promise<void> {
  await server?.close();
  server = await startTestServer();
  await server.addDomain('example.com');
  await server.addDomain('vod.example.com', 'vod');
}
after(() => server.close());

function check(name: string, text: string): void {
  const file = join(GOLDEN, name);
  const actual = normalize(text);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from its golden file`);
}

const CASES: [string, string, Record<string, string | number>, string?][] = [
  ['RefreshObjectCaches', 'cdn-refresh', { ObjectPath: 'http://example.com/1.txt\nhttp://example.com/2.txt?a=1&b=<2>' }],
  ['PushObjectCache', 'cdn-push', { ObjectPath: 'example.com/3.txt' }],
  ['DescribeRefreshTasks', 'cdn-describe-tasks', { PageSize: 10 }],
  ['DescribeRefreshTasks', 'cdn-describe-tasks-empty', { ObjectPath: 'http://example.com/none' }],
  ['DescribeRefreshTaskById', 'cdn-describe-by-id', { TaskId: '17000000001' }],
  ['DescribeRefreshQuota', 'cdn-quota', {}],
  ['RefreshVodObjectCaches', 'vod-refresh', { ObjectPath: 'http://vod.example.com/dir/', ObjectType: 'Directory' }, '2017-03-21'],
  ['PreloadVodObjectCaches', 'vod-preload', { ObjectPath: 'http://vod.example.com/a.mp4' }, '2017-03-21'],
  ['DescribeVodRefreshTasks', 'vod-describe-tasks', {}, '2017-03-21'],
  ['DescribeVodRefreshQuota', 'vod-quota', {}, '2017-03-21'],
  ['DescribeRefreshTaskById', 'error-malformed-task-id', { TaskId: 'x1' }],
  ['RefreshObjectCacheByCacheTag', 'cdn-refresh-by-tag', { CacheTag: 'product-42, sale', DomainName: 'example.com' }],
  ['DescribeRefreshTaskById', 'cdn-describe-by-id-tag', { TaskId: '17000000005' }],
  ['DescribePreloadDetailById', 'cdn-preload-detail', { TaskId: '17000000002' }],
  ['DescribePreloadDetailById', 'cdn-preload-detail-none', { TaskId: '17000000001' }],
  ['DescribeCdnUserQuota', 'cdn-user-quota', {}],
];

for (const format of ['JSON', 'XML'] as const) {
  describe(`golden ${format} bodies`, () => {
    // Each format runs on a fresh server, so task ids normalise the same way.
    before(freshServer);
    for (const [action, name, params, version] of CASES) {
      it(`${action} (${name})`, async () => {
        const res = await rpc(server.url, action, params, { format, version });
        assert.equal(res.contentType, format === 'JSON' ? 'application/json;charset=utf-8' : 'text/xml;charset=utf-8');
        assert.equal(res.status, name.startsWith('error') ? 400 : 200);
        check(`${name}.${format.toLowerCase()}`, res.text);
      });
    }
  });
}

describe('format selection', () => {
  it('RPC requests without Format answer XML, as Alibaba documents', async () => {
    const res = await rpc(server.url, 'DescribeRefreshQuota', {}, { format: null });
    assert.match(res.text, /^<\?xml version="1.0" encoding="UTF-8"\?><DescribeRefreshQuotaResponse><RequestId>/);
  });
  it('Format is case-insensitive', async () => {
    const res = await rpc(server.url, 'DescribeRefreshQuota', {}, { format: 'json' });
    assert.equal(res.json.UrlQuota, '10000');
    const xml = await rpc(server.url, 'DescribeRefreshQuota', {}, { format: 'xMl' });
    assert.match(xml.text, /<UrlQuota>10000<\/UrlQuota>/);
  });
  it('an unknown Format is InvalidParameter.Format, answered in JSON', async () => {
    const res = await rpc(server.url, 'DescribeRefreshQuota', {}, { format: 'YAML' });
    assert.equal(res.status, 400);
    assert.equal(res.json.Code, 'InvalidParameter.Format');
  });
});
