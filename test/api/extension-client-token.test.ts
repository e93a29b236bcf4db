import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startManifestOrigin, type ManifestOrigin } from '../edges/harness/manifest-origin.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * ClientToken with the submit extensions: PreloadAfter and ExpandManifest are part of what a call
 * asks, so a retry with the same token and the same flags gets the first call's tasks (no new
 * task, no quota), and the same token with a flag changed is IdempotentParameterMismatch. An
 * expanded preload is fingerprinted as asked (its paths), not as what the manifests expanded to.
 */
let server: TestServer;
let origin: ManifestOrigin;
before(async () => {
  origin = await startManifestOrigin({ root: fileURLToPath(new URL('../fixtures/manifests/', import.meta.url)), media: [] });
  server = await startTestServer();
  await server.addDomain('ct.example.com', 'cdn', origin.url);
});
after(async () => {
  await server.close();
  await origin.close();
});

const quota = async () => {
  const { RequestId: _, ...q } = (await rpc(server.url, 'DescribeRefreshQuota', {})).json;
  return q;
};

describe('ClientToken with PreloadAfter and ExpandManifest', () => {
  it('PreloadAfter: a retry gets the first tasks, charged once; the token with PreloadAfter changed is a mismatch', async () => {
    const call = (preloadAfter: string) => rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'ct.example.com/a.js', PreloadAfter: preloadAfter, ClientToken: 'ct-warm-1' });
    const first = await call('true');
    assert.equal(first.status, 200, first.text);
    const charged = await quota();
    const again = await call('true');
    assert.equal(again.json.RefreshTaskId, first.json.RefreshTaskId);
    assert.deepEqual(await quota(), charged, 'the retry charged nothing');
    const changed = await call('false');
    assert.deepEqual([changed.status, changed.json.Code], [400, 'IdempotentParameterMismatch']);
  });

  it('ExpandManifest: a retry gets the first tasks; the token without ExpandManifest is a mismatch', async () => {
    const call = (expand: string) => rpc(server.url, 'PushObjectCache', { ObjectPath: 'ct.example.com/vod/master.m3u8', ExpandManifest: expand, ClientToken: 'ct-expand-1' });
    const first = await call('true');
    assert.equal(first.status, 200, first.text);
    const rows = (await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: first.json.PushTaskId })).json.Tasks;
    assert.equal(rows.length, 7, 'the master, two playlists, four segments');
    const charged = await quota();
    const again = await call('true');
    assert.equal(again.json.PushTaskId, first.json.PushTaskId);
    assert.deepEqual(await quota(), charged, 'the retry charged nothing');
    const changed = await call('false');
    assert.deepEqual([changed.status, changed.json.Code], [400, 'IdempotentParameterMismatch']);
  });
});
