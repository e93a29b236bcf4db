import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { addAccount } from '../../src/identity/admin.js';
import { popClient, popRequest } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startManifestOrigin, type ManifestOrigin } from './harness/manifest-origin.js';
import { startVarnish, type Varnish } from './harness/varnish.js';

/**
 * ExpandManifest end to end: HLS and DASH manifests as packagers write them (test/fixtures/
 * manifests: a multivariant playlist with renditions, I-frame and byte-range fMP4 playlists,
 * relative, root-relative and absolute URIs, a second domain; ffmpeg-, Shaka- and GPAC-style
 * MPDs) on a local origin that answers 404 for any URL not listed below. The official pop-core
 * client submits; a real server's worker preloads every expanded URL on two simulated nodes and
 * a real Varnish. Each row Complete means the origin had that URL; the Varnish then holds it.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/manifests/', import.meta.url));
const M = 'http://media.example.com';
const C2 = 'http://cdn2.example.com';
const V = 'http://vmedia.example.com';

const HLS_MEDIA = [
  `${M}/hls/audio/en/prog.m3u8`, `${M}/hls/audio/en/init.mp4`, `${M}/hls/audio/en/seg1.m4s`, `${M}/hls/audio/en/seg2.m4s`, `${M}/hls/audio/en/seg3.m4s`,
  `${M}/hls/v720/prog.m3u8`, `${M}/hls/v720/main.mp4`,
  `${M}/hls/v1080/prog.m3u8`, `${M}/hls/v1080/seg-0.ts`, `${M}/hls/v1080/seg-1.ts`, `${M}/hls/shared/bumper.ts`, `${M}/hls/v1080/seg-3.ts?sig=abc`,
  `${M}/hls/v720/iframe.m3u8`,
];
const HLS_CDN2 = [`${C2}/hls/v360/prog.m3u8`, `${C2}/hls/v360/s0.ts`, `${C2}/hls/v360/s1.ts`];
const FFMPEG = ['0', '1', '2'].flatMap((r) => [`init-stream${r}.m4s`, ...[1, 2, 3].map((n) => `chunk-stream${r}-0000${n}.m4s`)]).map((p) => `${M}/dash/ffmpeg/${p}`);
const SHAKA = [
  ...['400000', '1200000'].flatMap((b) => [`${b}/init.mp4`, `${b}/0.m4s`, `${b}/1.m4s`]),
  'audio/a-en-init.mp4', ...[0, 96000, 192000, 288000].map((t) => `audio/a-en-${t}.m4s`),
].map((p) => `${C2}/dash/t/${p}`);
const GPAC = ['video_1000k_dashinit.mp4', 'audio_dashinit.mp4', 'list/init-4.mp4', 'list/4-1.m4s', 'list/4-2.m4s', 'subs/en.vtt'].map((p) => `${M}/dash/gpac/${p}`);
const VOD_MEDIA = [`${V}/vod/480p/index.m3u8`, `${V}/vod/480p/0.ts`, `${V}/vod/480p/1.ts`, `${V}/vod/240p/index.m3u8`, `${V}/vod/240p/0.ts`, `${V}/vod/240p/1.ts`];
/** What the origin serves besides the manifest files (the playlists are files). */
const MEDIA = [...HLS_MEDIA, ...HLS_CDN2, ...FFMPEG, ...SHAKA, ...GPAC, ...VOD_MEDIA].filter((u) => !u.endsWith('.m3u8')).map((u) => u.replace(/^http:\/\//, ''));

let origin: ManifestOrigin;
let varnish: Varnish;
let server: TestServer;
let other: { id: string; secret: string };

before(async () => {
  origin = await startManifestOrigin({ root: FIXTURES, hosts: { 'cdn2.example.com': 'cdn2', 'other.example.net': 'other' }, media: MEDIA });
  varnish = await startVarnish(origin.port);
  server = await startTestServer({
    engine: { simulatedNodes: 0, pollMs: 50, retryBaseMs: 20, maxAttempts: 2, requestTimeoutMs: 3000, attemptTimeoutMs: 5000 },
    manifests: { maxUrls: 100, maxFetches: 20, maxBytes: 64 * 1024, timeoutMs: 1000 },
    quotas: { vod: { preload: 12, preloadEdge: 12 } },
  }, { worker: true });
  for (const name of ['sim-1', 'sim-2']) {
    await server.store.fleet.addNode({ name, driver: 'simulated', address: `simulated/${name}`, group: 'mp', area: 'domestic', enabled: true, options: { latencyMs: [0, 0] }, createdAt: 0 });
  }
  await server.store.fleet.addNode({ name: 'varnish-1', driver: 'varnish', address: varnish.address, group: 'mp', area: 'domestic', enabled: true, options: {}, createdAt: 0 });
  const own = [['media.example.com', 'cdn', origin.url], ['cdn2.example.com', 'cdn', origin.url], ['vmedia.example.com', 'vod', origin.url], ['noorigin.example.com', 'cdn', null]] as const;
  for (const [name, product, url] of own) {
    await server.store.domains.addDomain({ name, accountId: server.accountId, product, origin: url, online: true, nodeGroup: 'mp', createdAt: 0 });
  }
  // Another account's domain, on the same origin: nobody else may have it read.
  const b = await addAccount(server.store, server.vault, 'other');
  other = { id: b.key.accessKeyId, secret: b.key.secret };
  await server.store.domains.addDomain({ name: 'other.example.net', accountId: b.account.id, product: 'cdn', origin: origin.url, online: true, nodeGroup: 'mp', createdAt: 0 });
});
after(async () => {
  await server?.close();
  await varnish?.stop();
  await origin?.close();
});

const hits = (url: string) => origin.hits.get(url.replace(/^http:\/\//, '')) ?? 0;

async function rowsOf(ids: string[], version = '2018-05-10'): Promise<Map<string, string[]>> {
  const res = await rpc(server.url, 'WaitForTasks', { TaskId: ids.join(','), Timeout: 30 }, { version });
  assert.equal(res.json.Done, true, `not done: ${res.text.slice(0, 500)}`);
  const bad = res.json.Tasks.filter((t: any) => t.Status !== 'Complete');
  assert.deepEqual(bad, [], 'every expanded URL preloaded on every node');
  const byTask = new Map<string, string[]>();
  for (const t of res.json.Tasks) byTask.set(t.TaskId, [...(byTask.get(t.TaskId) ?? []), t.ObjectPath]);
  return byTask;
}

async function cachedOnVarnish(url: string): Promise<boolean> {
  const u = new URL(url);
  const res = await request(`http://${varnish.address}${u.pathname}${u.search}`, { method: 'HEAD', headers: { host: u.hostname, 'x-cache-probe': '1' } });
  await res.body.dump();
  return res.statusCode === 200;
}

describe('ExpandManifest on a real origin, preloaded by the worker', () => {
  it('HLS: the multivariant playlist, its renditions, variants, I-frame playlist, init sections and segments, one row each, a task per domain', async () => {
    const before = hits(`${M}/hls/master.m3u8`);
    const res = await popRequest(popClient(server.url), 'PushObjectCache', { ObjectPath: 'media.example.com/hls/master.m3u8', ExpandManifest: true }, 'POST');
    const ids = String(res.PushTaskId).split(',');
    assert.equal(ids.length, 2, 'media.example.com and cdn2.example.com');
    const rows = await rowsOf(ids);
    assert.deepEqual(rows.get(ids[0])!.sort(), ['media.example.com/hls/master.m3u8', ...HLS_MEDIA].sort());
    assert.deepEqual(rows.get(ids[1])!.sort(), [...HLS_CDN2].sort());
    // Read once by the expansion, then once by each of the three nodes' preloads.
    assert.equal(hits(`${M}/hls/master.m3u8`) - before, 4);
    assert.equal(hits(`${M}/hls/v720/main.mp4`), 3, 'byte ranges of one file: one URL, one preload per node');
    for (const url of [...HLS_MEDIA, ...HLS_CDN2]) assert.ok(await cachedOnVarnish(url), `${url} on Varnish`);
    assert.equal(hits('https://keys.example.org/k/1'), 0, 'keys are not preloaded');
  });

  it('DASH: SegmentTimeline ($Number%05d$, $Time$, r=-1), @duration ($Bandwidth$), SegmentList, SegmentBase, BaseURL at every level', async () => {
    const paths = ['http://media.example.com/dash/ffmpeg/manifest.mpd', 'media.example.com/dash/shaka/manifest.mpd', 'media.example.com/dash/gpac/manifest.mpd'];
    const res = await popRequest(popClient(server.url), 'PushObjectCache', { ObjectPath: paths.join('\n'), ExpandManifest: true }, 'POST');
    const ids = String(res.PushTaskId).split(',');
    const rows = await rowsOf(ids);
    assert.deepEqual(rows.get(ids[0])!.sort(), [...paths, ...FFMPEG, ...GPAC].sort());
    assert.deepEqual(rows.get(ids[1])!.sort(), [...SHAKA].sort(), 'the Shaka MPD’s absolute BaseURL names the second domain');
    assert.equal(hits(`${M}/dash/gpac/audio_dashinit.mp4`), 3, 'SegmentList mediaRange parts: one URL');
    for (const url of [...FFMPEG, ...SHAKA, ...GPAC]) assert.ok(await cachedOnVarnish(url), `${url} on Varnish`);
  });

  it('VOD: PreloadVodObjectCaches expands too; over the preload quota the whole call is refused with the count, and nothing is charged', async () => {
    const vod = popClient(server.url, '2017-03-21');
    const remain = async () => (await popRequest(vod, 'DescribeVodRefreshQuota', {})).PreloadRemain as string;
    assert.equal(await remain(), '12');
    const res = await popRequest(vod, 'PreloadVodObjectCaches', { ObjectPath: 'vmedia.example.com/vod/master.m3u8', ExpandManifest: true }, 'POST');
    const rows = await rowsOf([res.PreloadTaskId], '2017-03-21');
    assert.deepEqual(rows.get(res.PreloadTaskId)!.sort(), ['vmedia.example.com/vod/master.m3u8', ...VOD_MEDIA].sort());
    assert.equal(await remain(), '5', 'seven URLs charged');

    const err = await popRequest(vod, 'PreloadVodObjectCaches', { ObjectPath: 'vmedia.example.com/vod/master.m3u8', ExpandManifest: true }).then(
      () => assert.fail('accepted'), (e: { code: string; message: string; entry: { response: { statusCode: number } } }) => e);
    assert.deepEqual([err.code, err.entry.response.statusCode], ['QuotaExceeded.Refresh', 400]);
    assert.match(err.message, /The manifests expand to 7 URLs; today's preload quota \(PreloadQuota\) has 5 left\./);
    assert.equal(await remain(), '5', 'nothing charged');
  });
});

describe('ExpandManifest refusals: a clear error, nothing accepted, nothing charged', () => {
  const push = (path: string, creds?: { id: string; secret: string }) =>
    rpc(server.url, 'PushObjectCache', { ObjectPath: path, ExpandManifest: 'true' }, creds ? { accessKeyId: creds.id, secret: creds.secret } : {});
  let quotaBefore = '';
  let rowsBefore = 0;
  before(async () => {
    quotaBefore = (await rpc(server.url, 'DescribeRefreshQuota', {})).json.PreloadRemain;
    rowsBefore = (await rpc(server.url, 'DescribeRefreshTasks', { ObjectType: 'preload', PageSize: 1 })).json.TotalCount;
  });
  after(async () => {
    assert.equal((await rpc(server.url, 'DescribeRefreshQuota', {})).json.PreloadRemain, quotaBefore, 'no refusal charged anything');
    assert.equal((await rpc(server.url, 'DescribeRefreshTasks', { ObjectType: 'preload', PageSize: 1 })).json.TotalCount, rowsBefore, 'no rows');
  });

  /** The slow origin's delay: far beyond manifests.timeoutMs (1 s), so a call that waited for it cannot pass for one cut at the deadline. */
  const SLOW_ORIGIN_MS = 6_000;
  const cases: [string, string, string, RegExp][] = [
    ['a manifest the origin does not have', 'media.example.com/hls/missing.m3u8', 'InvalidManifest.FetchFailed', /missing\.m3u8: the origin answered HTTP 404/],
    ['one of several manifests the origin does not have', 'media.example.com/hls/v720/prog.m3u8?x=1\nmedia.example.com/slow/0/deep/l4.m3u8\nmedia.example.com/bad/../hls/nope.m3u8', 'InvalidManifest.FetchFailed', /HTTP 404/],
    ['an origin slower than manifests.timeoutMs', `media.example.com/slow/${SLOW_ORIGIN_MS}/hls/master.m3u8`, 'InvalidManifest.FetchFailed', /no answer from the origin within 1000 ms/],
    ['a manifest larger than manifests.maxBytes', 'media.example.com/big/70000/x.m3u8', 'InvalidManifest.FetchFailed', /larger than 65536 bytes \(manifests\.maxBytes\)/],
    ['a domain without an origin', 'noorigin.example.com/a.m3u8', 'InvalidManifest.FetchFailed', /the domain noorigin\.example\.com has no origin/],
    ['a page that is no playlist', 'media.example.com/bad/not-a-playlist.m3u8', 'InvalidManifest.Malformed', /not an HLS playlist \(no #EXTM3U first line\)/],
    ['playlists nested deeper than 3 levels', 'media.example.com/deep/l1.m3u8', 'InvalidManifest.Malformed', /nested deeper than 3 levels/],
    ['more URLs than manifests.maxUrls', 'media.example.com/dash/long/manifest.mpd', 'SingleRequest.OverLimit', /A maximum of 100 URLs from manifest expansion \(manifests\.maxUrls\) are supported for each request\. The manifests expand to 502 URLs\./],
    ['more fetches than manifests.maxFetches', 'media.example.com/many/master.m3u8', 'SingleRequest.OverLimit', /A maximum of 20 manifest fetches are supported for each request\./],
  ];
  for (const [what, path, code, message] of cases) {
    it(`${what}: ${code}`, async () => {
      const t0 = Date.now();
      const res = await push(path);
      assert.deepEqual([res.status, res.json.Code], [400, code], res.text);
      assert.match(res.json.Message, message);
      // Cut at the expansion deadline (timeoutMs, 1 s: the message above says so), not after the
      // slow origin's answer: the bound sits between the two, with room for a loaded machine.
      const took = Date.now() - t0;
      assert.ok(took < SLOW_ORIGIN_MS - 2_000, `answered after ${took} ms: within the expansion deadline, not after the origin`);
    });
  }

  it('another account’s manifest is never fetched, nor a playlist or segment a manifest names on another account’s domain', async () => {
    const fetchedOther = () => [...origin.hits.keys()].filter((k) => k.startsWith('other.example.net/'));
    const direct = await push('other.example.net/hls/master.m3u8');
    assert.deepEqual([direct.status, direct.json.Code], [404, 'InvalidDomain.NotFound']);
    const variant = await push('media.example.com/foreign/master.m3u8');
    assert.deepEqual([variant.status, variant.json.Code], [404, 'InvalidDomain.NotFound']);
    assert.match(variant.json.Message, /\[other\.example\.net\]/);
    const segment = await push('media.example.com/foreign/media.m3u8');
    assert.deepEqual([segment.status, segment.json.Code], [404, 'InvalidDomain.NotFound']);
    assert.match(segment.json.Message, /A manifest names URLs of that domain\./);
    assert.deepEqual(fetchedOther(), [], 'nothing of other.example.net was read');
    // Its owner can.
    const own = await push('other.example.net/hls/master.m3u8', other);
    assert.equal(own.status, 200, own.text);
    // The expansion read both playlists (the warming of the segment that follows may reach the origin too).
    assert.deepEqual(fetchedOther().filter((k) => k.endsWith('.m3u8')).sort(), ['other.example.net/hls/master.m3u8', 'other.example.net/hls/v1/prog.m3u8']);
    await rpc(server.url, 'WaitForTasks', { TaskId: own.json.PushTaskId, Timeout: 30 }, { accessKeyId: other.id, secret: other.secret });
  });
});
