import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { EdgeJob, EdgeNode } from '../../src/edges/driver.js';
import { EdgeHttpClient } from '../../src/edges/http-client.js';
import { SQUID_NO_PATTERN_PURGE, SquidDriver } from '../../src/edges/squid.js';
import { startOrigin, type Origin } from './harness/origin.js';
import { freePort } from './harness/process.js';
import { startSquid, type SquidEdge } from './harness/squid.js';

/** The squid driver against a real Squid 5.7 accelerator in front of the test origin. */
let origin: Origin;
let edge: SquidEdge;
let onBox: EdgeNode;
const http = new EdgeHttpClient({ connectionsPerNode: 4, timeoutMs: 5000 });
const driver = new SquidDriver(http);
const HOST = 'www.example.com';
const OTHER = 'other.example.com';
const never = new AbortController().signal;

before(async () => {
  origin = await startOrigin();
  edge = await startSquid(origin.port);
  onBox = { ...edge.node, options: { squidPurge: { config: edge.config } } };
});
after(async () => {
  await http.close();
  await edge?.stop();
  await origin?.close();
});

/** A directory nobody else in this file uses, so origin hit counts belong to one test. */
const freshDir = () => `/d${randomUUID().slice(0, 8)}/`;

function job(over: Partial<EdgeJob> & Pick<EdgeJob, 'path'>): EdgeJob {
  return {
    kind: 'refresh', objectType: 'file', force: true, objectPath: `${HOST}${over.path}`, host: HOST,
    scheme: 'http', headers: {}, origin: origin.url, ...over,
  };
}

async function get(path: string, host = HOST, extra: Record<string, string> = {}) {
  return http.send(edge.node.address, { method: 'GET', path, headers: { host, ...extra } });
}

/** Does Squid hold this exact variant? (only-if-cached never reaches the origin.) */
async function variantCached(path: string, acceptEncoding?: string): Promise<boolean> {
  const extra: Record<string, string> = { 'cache-control': 'only-if-cached' };
  if (acceptEncoding) extra['accept-encoding'] = acceptEncoding;
  const res = await get(path, HOST, extra);
  assert.ok(res.status === 200 || res.status === 504, `probe answered ${res.status}`);
  return res.status === 200;
}

async function cache(path: string, host = HOST) {
  await get(path, host);
  assert.equal(await driver.probe(edge.node, host, path), 'hit', `${host}${path} should be cached: ${edge.log()}`);
}

describe('squid driver (real Squid 5.7)', () => {
  it('purges one URL: HIT before, MISS after, and the next GET refetches from the origin', async () => {
    const path = `${freshDir()}a.css`;
    await cache(path);
    await get(path);
    assert.equal(origin.hits.get(path), 1);
    assert.deepEqual(await driver.execute(edge.node, job({ path }), never), { kind: 'ok', detail: 'purged' });
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    await get(path);
    assert.equal(origin.hits.get(path), 2, 'the GET after the purge must go to the origin');
  });

  it('treats purging an uncached URL as success (already gone)', async () => {
    assert.deepEqual(await driver.execute(edge.node, job({ path: `${freshDir()}none.css` }), never), { kind: 'ok', detail: 'not cached' });
  });

  it('purges every Accept-Encoding variant of a Vary object (a plain PURGE would leave them)', async () => {
    const path = `/vary${freshDir()}v.js`;
    await get(path, HOST, { 'accept-encoding': 'gzip' });
    await get(path, HOST, { 'accept-encoding': 'identity' });
    assert.ok(await variantCached(path, 'gzip'));
    assert.ok(await variantCached(path, 'identity'));
    assert.equal(await driver.probe(edge.node, HOST, path), 'hit');
    assert.deepEqual(await driver.execute(edge.node, job({ path }), never), { kind: 'ok', detail: 'purged' });
    assert.equal(await variantCached(path, 'gzip'), false);
    assert.equal(await variantCached(path, 'identity'), false);
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
  });

  it('scopes a purge to the Host header: the same path on another domain stays cached', async () => {
    const path = `${freshDir()}h.css`;
    await cache(path, HOST);
    await cache(path, OTHER);
    assert.equal((await driver.execute(edge.node, job({ path }), never)).kind, 'ok');
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    assert.equal(await driver.probe(edge.node, OTHER, path), 'hit');
  });

  for (const [objectType, path] of [['directory', '/static/'], ['regex', '/static/.*\\.css'], ['ignoreparams', '/static/a.css']] as const) {
    it(`refuses ${objectType} refresh permanently with the reason when squid-purge is not configured`, async () => {
      const cached = `/static/${randomUUID().slice(0, 8)}.css`;
      await cache(cached);
      const out = await driver.execute(edge.node, job({ objectType, path }), never);
      assert.equal(out.kind, 'permanent');
      assert.ok(out.kind === 'permanent' && out.error.includes(SQUID_NO_PATTERN_PURGE) && out.description === 'Internal Error', JSON.stringify(out));
      assert.equal(await driver.probe(edge.node, HOST, cached), 'hit');
    });
  }

  it('purges a directory on the box through squid-purge, leaving siblings and other hosts', async () => {
    const dir = freshDir();
    const inside = [`${dir}a.css`, `${dir}sub/b.js`, `${dir}c.txt?v=3`];
    const outside = `${freshDir()}a.css`;
    for (const p of [...inside, outside]) await cache(p);
    await cache(inside[0], OTHER);
    const out = await driver.execute(onBox, job({ objectType: 'directory', path: dir }), never);
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    for (const p of inside) assert.equal(await driver.probe(edge.node, HOST, p), 'miss', p);
    assert.equal(await driver.probe(edge.node, HOST, outside), 'hit');
    assert.equal(await driver.probe(edge.node, OTHER, inside[0]), 'hit');
    await get(inside[1]);
    assert.equal(origin.hits.get(inside[1]), 2);
  });

  it('purges by regex on the box, Vary objects included', async () => {
    const dir = freshDir();
    const png = `/vary${dir}x.png`;
    await get(png, HOST, { 'accept-encoding': 'gzip' });
    await cache(`${dir}y.png`);
    await cache(`${dir}z.css`);
    const out = await driver.execute(onBox, job({ objectType: 'regex', path: `/(vary/)?${dir.slice(1)}.*\\.png` }), never);
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    assert.equal(await variantCached(png, 'gzip'), false);
    assert.equal(await driver.probe(edge.node, HOST, `${dir}y.png`), 'miss');
    assert.equal(await driver.probe(edge.node, HOST, `${dir}z.css`), 'hit');
  });

  it('fails permanently on a regex squid-purge cannot compile', async () => {
    const out = await driver.execute(onBox, job({ objectType: 'regex', path: '/static/(unclosed' }), never);
    assert.ok(out.kind === 'permanent' && /unable to compile/.test(out.error), JSON.stringify(out));
  });

  it('purges every query variant for IgnoreParams on the box', async () => {
    const path = `${freshDir()}q.css`;
    for (const q of ['', '?v=1', '?v=2']) await cache(path + q);
    await cache(`${path}x`);
    const out = await driver.execute(onBox, job({ objectType: 'ignoreparams', path: `${path}?v=1` }), never);
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    for (const q of ['', '?v=1', '?v=2']) assert.equal(await driver.probe(edge.node, HOST, path + q), 'miss', q);
    assert.equal(await driver.probe(edge.node, HOST, `${path}x`), 'hit');
  });

  it('preloads: a MISS becomes a HIT served without the origin', async () => {
    const path = `${freshDir()}p.bin`;
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    assert.equal(origin.hits.get(path), undefined, 'the probe must not fetch from the origin');
    const out = await driver.execute(edge.node, job({ kind: 'preload', objectType: 'preload', path, headers: { 'X-Warm': ['1'] } }), never);
    assert.deepEqual(out, { kind: 'ok', detail: 'fetched 200' });
    assert.equal(await driver.probe(edge.node, HOST, path), 'hit');
    await get(path);
    assert.equal(origin.hits.get(path), 1);
  });

  it('fails a preload permanently when the origin answers 500', async () => {
    const out = await driver.execute(edge.node, job({ kind: 'preload', objectType: 'preload', path: `/status/500${freshDir()}` }), never);
    assert.equal(out.kind, 'permanent');
    assert.ok(out.kind === 'permanent' && out.description === 'Origin Return StatusCode 5XX', JSON.stringify(out));
  });

  it('retries when the node is unreachable', async () => {
    const dead: EdgeNode = { ...edge.node, address: `127.0.0.1:${await freePort()}` };
    for (const j of [job({ path: '/x.css' }), job({ kind: 'preload', objectType: 'preload', path: '/x.css' })]) {
      const out = await driver.execute(dead, j, never);
      assert.ok(out.kind === 'retryable' && /ECONNREFUSED/.test(out.error), JSON.stringify(out));
    }
  });
});
