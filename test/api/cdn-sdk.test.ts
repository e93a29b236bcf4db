import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cdn, cdnClient, type SignatureFlavour } from '../helpers/clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Every CDN action through the official, unmodified @alicloud/cdn20180510 SDK, with each
 * signature it can send: ACS3-HMAC-SHA256 (its default), legacy RPC (`v2`) and ACS3-HMAC-SM3.
 */
let server: TestServer;
before(async () => {
  server = await startTestServer();
  await server.addDomain('example.com');
  await server.addDomain('img.example.org');
});
after(() => server.close());

for (const flavour of ['v3', 'v2', 'sm3'] as SignatureFlavour[]) {
  describe(`cdn SDK, ${flavour} signature`, () => {
    const client = () => cdnClient(server.hostPort, flavour);

    it('RefreshObjectCaches makes one task per domain and Describe* return its rows', async () => {
      const paths = ['http://example.com/a b.txt', 'http://example.com/q?x=(*)!~', 'https://img.example.org/中文.png'];
      const res = await client().refreshObjectCaches(new Cdn.RefreshObjectCachesRequest({ objectPath: paths.join('\r\n'), objectType: 'File', force: true }));
      assert.equal(res.statusCode, 200);
      const ids = res.body.refreshTaskId.split(',');
      assert.equal(ids.length, 2, 'two domains, two tasks');
      assert.match(res.body.requestId, /^[0-9A-F-]{36}$/);

      const byId = await client().describeRefreshTaskById(new Cdn.DescribeRefreshTaskByIdRequest({ taskId: ids.join(',') }));
      assert.equal(byId.body.totalCount, 3);
      assert.deepEqual(byId.body.tasks.map((t: any) => t.objectPath).sort(), [...paths].sort());
      for (const t of byId.body.tasks) {
        assert.equal(t.objectType, 'file');
        assert.equal(t.status, 'Pending');
        assert.equal(t.process, '0%');
        assert.equal(t.description, '');
        assert.match(t.creationTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      }
      assert.deepEqual(byId.body.tasks.filter((t: any) => t.taskId === ids[1]).map((t: any) => t.objectPath), [paths[2]]);

      const list = await client().describeRefreshTasks(new Cdn.DescribeRefreshTasksRequest({ taskId: ids[0], pageSize: 10 }));
      assert.equal(list.body.totalCount, 2);
      assert.equal(list.body.pageSize, 10);
      assert.equal(list.body.pageNumber, 1);
      assert.ok(Array.isArray(list.body.tasks.CDNTask));
      assert.deepEqual(list.body.tasks.CDNTask.map((t: any) => t.taskId), [ids[0], ids[0]]);
    });

    it('RefreshObjectCaches Directory and Regex tasks carry their type', async () => {
      const dir = await client().refreshObjectCaches(new Cdn.RefreshObjectCachesRequest({ objectPath: 'example.com/static/', objectType: 'Directory' }));
      const regex = await client().refreshObjectCaches(new Cdn.RefreshObjectCachesRequest({ objectPath: 'http://example.com/img/.*\\.png', objectType: 'Regex' }));
      const rows = await client().describeRefreshTaskById(new Cdn.DescribeRefreshTaskByIdRequest({ taskId: `${dir.body.refreshTaskId},${regex.body.refreshTaskId}` }));
      assert.deepEqual(rows.body.tasks.map((t: any) => [t.taskId, t.objectType]).sort(), [
        [dir.body.refreshTaskId, 'directory'],
        [regex.body.refreshTaskId, 'regex'],
      ].sort());
    });

    it('PushObjectCache answers PushTaskId and lists as preload', async () => {
      const res = await client().pushObjectCache(new Cdn.PushObjectCacheRequest({
        objectPath: 'example.com/1.txt\nexample.com/2.txt', area: 'domestic', l2Preload: true, withHeader: '{"Accept-Encoding":["gzip"]}',
      }));
      assert.match(res.body.pushTaskId, /^\d+$/);
      const list = await client().describeRefreshTasks(new Cdn.DescribeRefreshTasksRequest({ taskId: res.body.pushTaskId, objectType: 'preload', domainName: 'example.com' }));
      assert.equal(list.body.totalCount, 2);
      assert.ok(list.body.tasks.CDNTask.every((t: any) => t.objectType === 'preload'));
    });

    it('DescribeRefreshQuota answers every quota as a decimal string', async () => {
      const res = await client().describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({}));
      for (const f of ['urlQuota', 'urlRemain', 'dirQuota', 'dirRemain', 'regexQuota', 'regexRemain', 'preloadQuota', 'preloadRemain', 'blockQuota', 'blockRemain', 'ignoreParamsQuota', 'ignoreParamsRemain', 'preloadEdgeQuota', 'preloadEdgeRemain']) {
        assert.match(res.body[f], /^\d+$/, f);
      }
      assert.equal(res.body.urlQuota, '10000');
      assert.ok(Number(res.body.urlRemain) < 10000, 'earlier refreshes were counted');
    });

    it('RefreshObjectCacheByCacheTag (5.0.0 model) answers RefreshTaskId; its rows are cachetag rows', async () => {
      const res = await client().refreshObjectCacheByCacheTag(new Cdn.RefreshObjectCacheByCacheTagRequest({ cacheTag: 'tag1,tag2', domainName: 'example.com', force: true }));
      assert.equal(res.statusCode, 200);
      assert.match(res.body.refreshTaskId, /^\d+$/);
      assert.match(res.body.requestId, /^[0-9A-F-]{36}$/);
      const rows = await client().describeRefreshTaskById(new Cdn.DescribeRefreshTaskByIdRequest({ taskId: res.body.refreshTaskId }));
      assert.deepEqual(rows.body.tasks.map((t: any) => [t.objectType, t.objectPath]), [['cachetag', 'tag1'], ['cachetag', 'tag2']]);
      const listed = await client().describeRefreshTasks(new Cdn.DescribeRefreshTasksRequest({ objectType: 'cachetag', domainName: 'example.com', status: 'Refreshing' }));
      assert.ok(listed.body.tasks.CDNTask.some((t: any) => t.taskId === res.body.refreshTaskId && t.status === 'Refreshing'), 'unconfirmed rows are Refreshing (seed 004)');
    });

    it('DescribePreloadDetailById (5.0.0 model) reads a preload task URL by URL', async () => {
      const push = await client().pushObjectCache(new Cdn.PushObjectCacheRequest({ objectPath: 'example.com/d1.txt\nexample.com/d2.txt' }));
      const res = await client().describePreloadDetailById(new Cdn.DescribePreloadDetailByIdRequest({ taskId: push.body.pushTaskId }));
      assert.equal(res.body.totalCount, 1);
      const [d] = res.body.urlDetails;
      assert.deepEqual([d.taskId, d.domain, d.status, d.process, d.retCode, d.endTime], [push.body.pushTaskId, 'example.com', 'Refreshing', '0%', '', '']);
      assert.match(d.creationTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.deepEqual(d.urls.map((u: any) => [u.url, u.success, u.description]), [['example.com/d1.txt', '0%', ''], ['example.com/d2.txt', '0%', '']]);
    });

    it('DescribeCdnUserQuota (5.0.0 model) answers numbers, in step with DescribeRefreshQuota', async () => {
      const res = await client().describeCdnUserQuota(new Cdn.DescribeCdnUserQuotaRequest({}));
      const quota = await client().describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({}));
      for (const f of ['domainQuota', 'blockQuota', 'blockRemain', 'ignoreParamsQuota', 'ignoreParamsRemain', 'preloadQuota', 'preloadRemain', 'refreshDirQuota', 'refreshDirRemain', 'refreshUrlQuota', 'refreshUrlRemain']) {
        assert.equal(typeof res.body[f], 'number', f);
      }
      assert.deepEqual(
        [res.body.refreshUrlQuota, res.body.refreshUrlRemain, res.body.refreshDirQuota, res.body.refreshDirRemain, res.body.preloadRemain, res.body.blockRemain, res.body.ignoreParamsRemain],
        [quota.body.urlQuota, quota.body.urlRemain, quota.body.dirQuota, quota.body.dirRemain, quota.body.preloadRemain, quota.body.blockRemain, quota.body.ignoreParamsRemain].map(Number),
      );
    });

    it('an empty result still has an array of CDNTask', async () => {
      const res = await client().describeRefreshTasks(new Cdn.DescribeRefreshTasksRequest({ objectPath: 'http://example.com/never-refreshed' }));
      assert.equal(res.body.totalCount, 0);
      assert.deepEqual(res.body.tasks.CDNTask, []);
    });

    it('errors arrive as the SDK error with code, status and request id', async () => {
      await assert.rejects(
        client().describeRefreshTaskById(new Cdn.DescribeRefreshTaskByIdRequest({ taskId: 'abc' })),
        (err: any) => {
          assert.equal(err.code, 'InvalidTaskId.Malformed');
          assert.equal(err.statusCode, 400);
          assert.equal(err.data.Message, 'The specified TaskId is invalid.');
          assert.match(err.data.RequestId, /^[0-9A-F-]{36}$/);
          return true;
        },
      );
      await assert.rejects(
        client().refreshObjectCaches(new Cdn.RefreshObjectCachesRequest({ objectPath: 'http://not-mine.com/a' })),
        (err: any) => err.code === 'InvalidDomain.NotFound' && err.statusCode === 404,
      );
    });
  });
}

describe('cdn SDK with a wrong secret', () => {
  it('is refused with SignatureDoesNotMatch for every flavour', async () => {
    for (const flavour of ['v3', 'v2', 'sm3'] as SignatureFlavour[]) {
      const c = cdnClient(server.hostPort, flavour, { id: 'LTAI5tTestAccessKeyId', secret: 'not-the-secret' });
      await assert.rejects(c.describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({})), (err: any) => err.code === 'SignatureDoesNotMatch' && err.statusCode === 400);
    }
  });
});
