import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { EdgeJob, EdgeNode } from '../../src/edges/driver.js';
import { EdgeHttpClient } from '../../src/edges/http-client.js';
import { NGINX_NO_PATTERN_PURGE, NginxDriver } from '../../src/edges/nginx.js';
import { startNginx, type NginxEdge } from './harness/nginx.js';
import { startOrigin, type Origin } from './harness/origin.js';
import { freePort } from './harness/process.js';

/** The nginx driver against a real nginx + ngx_cache_purge 2.3 in front of the test origin. */
let origin: Origin;
let edge: NginxEdge;
const http = new EdgeHttpClient({ connectionsPerNode: 4, timeoutMs: 5000 });
const driver = new NginxDriver(http);
const HOST = 'www.example.com';
const never = new AbortController().signal;

before(async () => {
  origin = await startOrigin();
  edge = await startNginx(origin.port);
});
after(async () => {
  await http.close();
  await edge?.stop();
  await origin?.close();
});

/** A path nobody else in this file uses, so origin hit counts belong to one test. */
const fresh = (dir = '/static') => `${dir}/${randomUUID().slice(0, 8)}.css`;

function job(over: Partial<EdgeJob> & Pick<EdgeJob, 'path'>): EdgeJob {
  return {
    kind: 'refresh', objectType: 'file', force: false, objectPath: `${HOST}${over.path}`, host: HOST,
    scheme: 'http', headers: {}, origin: origin.url, ...over,
  };
}

/** A client request through the edge (what a visitor does). */
async function get(path: string, host = HOST) {
  return http.send(edge.node.address, { method: 'GET', path, headers: { host } });
}

/** Cache `path` on the edge and prove it is a hit that no longer reaches the origin. */
async function cache(path: string, host = HOST) {
  await get(path, host);
  assert.equal(await driver.probe(edge.node, host, path), 'hit', `${path} should be cached: ${edge.errors()}`);
}

describe('nginx driver (real nginx 1.22 + cache_purge 2.3)', () => {
  it('purges one URL: HIT before, MISS after, and the next GET refetches from the origin', async () => {
    const path = fresh();
    await cache(path);
    assert.equal(origin.hits.get(path), 1);
    origin.bump(path);
    assert.deepEqual(await driver.execute(edge.node, job({ path }), never), { kind: 'ok', detail: 'purged' });
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    const res = await get(path);
    assert.equal(origin.hits.get(path), 2, 'the GET after the purge must go to the origin');
    assert.match(res.text, /v2/);
    assert.equal(await driver.probe(edge.node, HOST, path), 'hit');
  });

  it('treats purging an uncached URL as success (already gone)', async () => {
    const out = await driver.execute(edge.node, job({ path: fresh() }), never);
    assert.deepEqual(out, { kind: 'ok', detail: 'not cached' });
  });

  it('keys on the query string: purging ?v=1 leaves ?v=2 cached', async () => {
    const path = fresh();
    await cache(`${path}?v=1`);
    await cache(`${path}?v=2`);
    assert.equal((await driver.execute(edge.node, job({ path: `${path}?v=1` }), never)).kind, 'ok');
    assert.equal(await driver.probe(edge.node, HOST, `${path}?v=1`), 'miss');
    assert.equal(await driver.probe(edge.node, HOST, `${path}?v=2`), 'hit');
  });

  it('scopes a purge to the Host header: the same path on another domain stays cached', async () => {
    const path = fresh();
    await cache(path, HOST);
    await cache(path, 'other.example.com');
    assert.equal((await driver.execute(edge.node, job({ path }), never)).kind, 'ok');
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    assert.equal(await driver.probe(edge.node, 'other.example.com', path), 'hit');
  });

  for (const [objectType, path] of [['directory', '/static/'], ['regex', '/static/.*\\.css'], ['ignoreparams', '/static/a.css']] as const) {
    it(`refuses ${objectType} refresh permanently with the reason, leaving the cache untouched`, async () => {
      const cached = fresh();
      await cache(cached);
      for (const force of [true, false]) {
        const out = await driver.execute(edge.node, job({ objectType, path, force }), never);
        assert.equal(out.kind, 'permanent');
        assert.ok(out.kind === 'permanent' && out.error.includes(NGINX_NO_PATTERN_PURGE), JSON.stringify(out));
        assert.ok(out.kind === 'permanent' && out.description === 'Internal Error');
      }
      assert.equal(await driver.probe(edge.node, HOST, cached), 'hit');
    });
  }

  it('does not mistake a wrong purge prefix (the request reaches the origin) for a purge', async () => {
    const path = fresh();
    await cache(path);
    const node: EdgeNode = { ...edge.node, options: { purgePrefix: '/not-purge' } };
    const out = await driver.execute(node, job({ path }), never);
    assert.equal(out.kind, 'permanent', JSON.stringify(out));
    assert.equal(await driver.probe(edge.node, HOST, path), 'hit');
  });

  it('preloads: a MISS becomes a HIT served without the origin', async () => {
    const path = fresh('/preload');
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    assert.equal(origin.hits.get(path), undefined, 'the probe must not fetch from the origin');
    const out = await driver.execute(edge.node, job({ kind: 'preload', objectType: 'preload', path, headers: { 'X-Warm': ['1'] } }), never);
    assert.deepEqual(out, { kind: 'ok', detail: 'fetched 200' });
    assert.equal(await driver.probe(edge.node, HOST, path), 'hit');
    const res = await get(path);
    assert.equal(res.headers['x-cache'], 'HIT');
    assert.equal(origin.hits.get(path), 1);
  });

  it('fails a preload permanently when the origin answers 500', async () => {
    const path = `/status/500/${randomUUID().slice(0, 8)}`;
    const out = await driver.execute(edge.node, job({ kind: 'preload', objectType: 'preload', path }), never);
    assert.equal(out.kind, 'permanent');
    assert.ok(out.kind === 'permanent' && out.description === 'Origin Return StatusCode 5XX', JSON.stringify(out));
  });

  it('retries a preload that times out', async () => {
    const quick = new EdgeHttpClient({ connectionsPerNode: 1, timeoutMs: 300 });
    try {
      const path = `/slow/1500/${randomUUID().slice(0, 8)}`;
      const out = await new NginxDriver(quick).execute(edge.node, job({ kind: 'preload', objectType: 'preload', path }), never);
      assert.equal(out.kind, 'retryable', JSON.stringify(out));
    } finally {
      await quick.close();
    }
  });

  it('retries when the node is unreachable', async () => {
    const dead: EdgeNode = { ...edge.node, address: `127.0.0.1:${await freePort()}` };
    for (const j of [job({ path: fresh() }), job({ kind: 'preload', objectType: 'preload', path: fresh() })]) {
      const out = await driver.execute(dead, j, never);
      assert.equal(out.kind, 'retryable', JSON.stringify(out));
      assert.ok(out.kind === 'retryable' && /ECONNREFUSED/.test(out.error), out.kind === 'retryable' ? out.error : '');
    }
  });
});
