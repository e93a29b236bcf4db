import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { popClient, popRequest } from '../helpers/clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Every CDN and VOD action through the official @alicloud/pop-core RPC client, by GET (its
 * default: every parameter in the URL) and by POST (every parameter in the form body).
 */
let server: TestServer;
before(async () => {
  server = await startTestServer();
  await server.addDomain('example.com');
  await server.addDomain('video.example.com', 'vod');
  await server.addDomain('big.example.com');
});
after(() => server.close());

for (const method of ['GET', 'POST'] as const) {
  describe(`pop-core ${method}, CDN 2018-05-10`, () => {
    const cdn = () => popClient(server.url, '2018-05-10');

    it('refresh, push, list, by id and quota', async () => {
      const refresh = await popRequest(cdn(), 'RefreshObjectCaches', { ObjectPath: 'http://example.com/a.txt\nhttp://example.com/b.txt' }, method);
      assert.match(refresh.RefreshTaskId, /^\d{11}$/);
      const push = await popRequest(cdn(), 'PushObjectCache', { ObjectPath: 'example.com/c.txt', Area: 'overseas' }, method);
      assert.match(push.PushTaskId, /^\d{11}$/);
      assert.ok(BigInt(push.PushTaskId) > BigInt(refresh.RefreshTaskId), 'task ids increase');

      const byId = await popRequest(cdn(), 'DescribeRefreshTaskById', { TaskId: `${refresh.RefreshTaskId},${push.PushTaskId}` }, method);
      assert.equal(byId.TotalCount, 3);
      assert.ok(Array.isArray(byId.Tasks));
      assert.deepEqual(Object.keys(byId.Tasks[0]).sort(), ['CreationTime', 'Description', 'ObjectPath', 'ObjectType', 'Process', 'Status', 'TaskId']);
      assert.equal(typeof byId.Tasks[0].TaskId, 'string', 'task ids travel as strings');

      const list = await popRequest(cdn(), 'DescribeRefreshTasks', { ObjectType: 'file', DomainName: 'example.com', PageSize: 1, PageNumber: 2 }, method);
      assert.equal(list.PageNumber, 1 + 1);
      assert.equal(list.PageSize, 1);
      assert.ok(list.TotalCount >= 2);
      assert.equal(list.Tasks.CDNTask.length, 1);

      const quota = await popRequest(cdn(), 'DescribeRefreshQuota', {}, method);
      assert.equal(typeof quota.UrlRemain, 'string');
      assert.equal(typeof quota.PreloadRemain, 'string');
    });

    it('tag purge, preload detail and user quota', async () => {
      const tag = await popRequest(cdn(), 'RefreshObjectCacheByCacheTag', { CacheTag: 'a,b', DomainName: 'example.com', Force: 'false' }, method);
      assert.match(tag.RefreshTaskId, /^\d{11}$/);
      const rows = await popRequest(cdn(), 'DescribeRefreshTasks', { TaskId: tag.RefreshTaskId }, method);
      assert.deepEqual(rows.Tasks.CDNTask.map((t: any) => [t.ObjectType, t.ObjectPath, t.Status]).sort(), [['cachetag', 'a', 'Refreshing'], ['cachetag', 'b', 'Refreshing']]);

      const push = await popRequest(cdn(), 'PushObjectCache', { ObjectPath: 'example.com/detail.txt' }, method);
      const detail = await popRequest(cdn(), 'DescribePreloadDetailById', { TaskId: push.PushTaskId }, method);
      assert.equal(detail.TotalCount, 1);
      assert.deepEqual(detail.UrlDetails[0].Urls.map((u: any) => [u.Url, u.Success, u.Description]), [['example.com/detail.txt', '0%', '']]);

      const quota = await popRequest(cdn(), 'DescribeCdnUserQuota', {}, method);
      assert.equal(typeof quota.RefreshDirRemain, 'number');
      assert.equal(quota.RefreshDirQuota - quota.RefreshDirRemain >= 2, true, 'the two tags were counted as directories');
    });

    it('pop-core raises the Code of an error body', async () => {
      await assert.rejects(popRequest(cdn(), 'DescribeRefreshTasks', { Status: 'Complete' }, method), (err: any) => {
        assert.equal(err.code, 'MissingParameter.ObjectType');
        assert.equal(err.data.Code, 'MissingParameter.ObjectType');
        assert.equal(err.name, 'MissingParameter.ObjectTypeError');
        return true;
      });
    });
  });

  describe(`pop-core ${method}, VOD 2017-03-21`, () => {
    const vod = () => popClient(server.url, '2017-03-21');

    it('refresh, preload, list and quota', async () => {
      const refresh = await popRequest(vod(), 'RefreshVodObjectCaches', { ObjectPath: 'https://video.example.com/v/1.m3u8', ObjectType: 'File' }, method);
      assert.match(refresh.RefreshTaskId, /^\d+$/);
      const preload = await popRequest(vod(), 'PreloadVodObjectCaches', { ObjectPath: 'https://video.example.com/v/1.ts' }, method);
      assert.match(preload.PreloadTaskId, /^\d+$/);
      assert.equal(preload.PushTaskId, undefined);

      const list = await popRequest(vod(), 'DescribeVodRefreshTasks', { TaskId: refresh.RefreshTaskId }, method);
      assert.equal(list.TotalCount, 1);
      assert.equal(list.Tasks.Task[0].ObjectPath, 'https://video.example.com/v/1.m3u8');
      assert.equal(list.Tasks.CDNTask, undefined, 'VOD lists under Tasks.Task');

      const quota = await popRequest(vod(), 'DescribeVodRefreshQuota', {}, method);
      assert.equal(quota.UrlQuota, '2000');
      assert.equal(typeof quota.blockRemain, 'string', 'the VOD model spells blockRemain in lower case');
      assert.equal(quota.BlockRemain, undefined);
    });

    it('VOD and CDN tasks do not mix', async () => {
      const vodList = await popRequest(vod(), 'DescribeVodRefreshTasks', { PageSize: 50 }, method);
      assert.ok(vodList.Tasks.Task.every((t: any) => t.ObjectPath.includes('video.example.com')));
      await assert.rejects(
        popRequest(vod(), 'RefreshVodObjectCaches', { ObjectPath: 'http://example.com/a.txt' }, method),
        (err: any) => err.code === 'InvalidDomain.NotFound',
      );
    });
  });
}

describe('pop-core large requests', () => {
  it('a 1000-URL RefreshObjectCaches by GET (a ~100 KB request line) is accepted', async () => {
    const paths = Array.from({ length: 1000 }, (_, i) => `http://big.example.com/assets/${i}/${'x'.repeat(60)}.js?v=${i}`);
    const res = await popRequest(popClient(server.url), 'RefreshObjectCaches', { ObjectPath: paths.join('\n') }, 'GET');
    const rows = await popRequest(popClient(server.url), 'DescribeRefreshTasks', { TaskId: res.RefreshTaskId, PageSize: 100, PageNumber: 10 });
    assert.equal(rows.TotalCount, 1000);
    assert.equal(rows.Tasks.CDNTask.length, 100);
  });

  it('an action name in the wrong case is InvalidAction.NotFound', async () => {
    await assert.rejects(popRequest(popClient(server.url), 'describeRefreshQuotaX', {}), (err: any) => err.code === 'InvalidAction.NotFound');
  });
});
