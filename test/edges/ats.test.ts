import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ATS_NEEDS_ON_BOX, AtsDriver } from '../../src/edges/ats.js';
import type { EdgeJob, EdgeNode } from '../../src/edges/driver.js';
import { EdgeHttpClient } from '../../src/edges/http-client.js';
import { OTHER_HOST, startAts, type AtsEdge } from './harness/ats.js';
import { startOrigin, type Origin } from './harness/origin.js';
import { freePort } from './harness/process.js';

/**
 * The ats driver against a real Traffic Server 9.2 in front of the test origin. www.example.com
 * maps to the origin's `/`, other.example.com to its `/other/` (see the harness).
 */
let origin: Origin;
let edge: AtsEdge;
const http = new EdgeHttpClient({ connectionsPerNode: 4, timeoutMs: 5000 });
const driver = new AtsDriver(http);
const HOST = 'www.example.com';
const never = new AbortController().signal;

before(async () => {
  origin = await startOrigin();
  edge = await startAts(origin.port);
});
after(async () => {
  await http.close();
  await edge?.stop();
  await origin?.close();
});

const freshDir = () => `/d${randomUUID().slice(0, 8)}/`;
const hits = (originPath: string) => origin.hits.get(originPath) ?? 0;

function job(over: Partial<EdgeJob> & Pick<EdgeJob, 'path'>): EdgeJob {
  return {
    kind: 'refresh', objectType: 'file', force: true, objectPath: `${HOST}${over.path}`, host: HOST,
    scheme: 'http', headers: {}, origin: origin.url, ...over,
  };
}

async function get(path: string, host = HOST, extra: Record<string, string> = {}) {
  return http.send(edge.node.address, { method: 'GET', path, headers: { host, ...extra } });
}

async function cache(path: string, host = HOST) {
  await get(path, host);
  assert.equal(await driver.probe(edge.node, host, path), 'hit', `${host}${path} should be cached: ${edge.log()}`);
}

async function ok(j: EdgeJob, node: EdgeNode = edge.node) {
  const out = await driver.execute(node, j, never);
  assert.equal(out.kind, 'ok', `${JSON.stringify(out)}\n${edge.log()}`);
  return out;
}

describe('ats driver (real Traffic Server 9.2)', () => {
  it('purges one URL: HIT before, MISS after, and the next GET refetches from the origin', async () => {
    const path = `${freshDir()}a.css`;
    await cache(path);
    assert.equal(hits(path), 1);
    assert.deepEqual(await ok(job({ path })), { kind: 'ok', detail: 'purged' });
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    assert.equal(hits(path), 1, 'a probe of a miss must not reach the origin');
    await get(path);
    assert.equal(hits(path), 2);
  });

  it('treats an uncached URL as success, but an unmapped Host as a permanent misconfiguration', async () => {
    assert.deepEqual(await ok(job({ path: `${freshDir()}none.css` })), { kind: 'ok', detail: 'not cached' });
    const out = await driver.execute(edge.node, job({ path: '/x.css', host: 'unmapped.example.com' }), never);
    assert.ok(out.kind === 'permanent' && /no remap rule/.test(out.error), JSON.stringify(out));
  });

  it('purges every Accept-Encoding alternate of a Vary object', async () => {
    const path = `/vary${freshDir()}v.js`;
    await get(path, HOST, { 'accept-encoding': 'gzip' });
    await get(path, HOST);
    await ok(job({ path }));
    for (const ae of ['gzip', 'identity']) {
      const res = await get(path, HOST, { 'accept-encoding': ae, 'cache-control': 'only-if-cached', 'x-debug': 'X-Cache' });
      assert.equal(res.headers['x-cache'], 'miss', ae);
    }
  });

  it('scopes a purge to the Host header (each domain maps to its own origin URL)', async () => {
    const path = `${freshDir()}h.css`;
    await cache(path, HOST);
    await cache(path, OTHER_HOST);
    await ok(job({ path }));
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    assert.equal(await driver.probe(edge.node, OTHER_HOST, path), 'hit');
  });

  it('refreshes a directory with force=true as a MISS rule: only that directory on that domain', async () => {
    const dir = freshDir();
    const sibling = `${freshDir()}a.css`;
    for (const p of [`${dir}a.css`, `${dir}sub/b.css`, sibling]) await cache(p);
    await cache(`${dir}a.css`, OTHER_HOST);
    await ok(job({ objectType: 'directory', path: dir, force: true }));
    assert.match(readFileSync(edge.node.options.regexRevalidateConfig as string, 'utf8'), new RegExp(`${dir}\\s+\\d+ MISS`));
    assert.equal(await driver.probe(edge.node, HOST, `${dir}a.css`), 'miss');
    assert.equal(await driver.probe(edge.node, HOST, `${dir}sub/b.css`), 'miss');
    assert.equal(await driver.probe(edge.node, HOST, sibling), 'hit');
    assert.equal(await driver.probe(edge.node, OTHER_HOST, `${dir}a.css`), 'hit');
    await get(`${dir}a.css`);
    assert.equal(hits(`${dir}a.css`), 2, 'the GET after the refresh must refetch');
  });

  it('refreshes a directory with force=false as a STALE rule: revalidated, new content served', async () => {
    const path = `${freshDir()}s.css`;
    await cache(path);
    origin.bump(path);
    await ok(job({ objectType: 'directory', path: path.replace(/[^/]+$/, ''), force: false }));
    assert.equal(await driver.probe(edge.node, HOST, path), 'stale');
    const res = await get(path);
    assert.match(res.text, /v2/);
    assert.ok(hits(path) >= 2, 'revalidation must reach the origin');
  });

  it('refreshes by regex on the origin URL', async () => {
    const dir = freshDir();
    for (const p of [`${dir}x.png`, `${dir}deep/y.png`, `${dir}z.css`]) await cache(p);
    await ok(job({ objectType: 'regex', path: `${dir}.*\\.png` }));
    assert.equal(await driver.probe(edge.node, HOST, `${dir}x.png`), 'miss');
    assert.equal(await driver.probe(edge.node, HOST, `${dir}deep/y.png`), 'miss');
    assert.equal(await driver.probe(edge.node, HOST, `${dir}z.css`), 'hit');
  });

  it('refreshes every query variant for IgnoreParams', async () => {
    const path = `${freshDir()}q.css`;
    for (const p of [path, `${path}?v=1`, `${path}?v=2`, `${path}x`]) await cache(p);
    await ok(job({ objectType: 'ignoreparams', path: `${path}?v=1` }));
    for (const p of [path, `${path}?v=1`, `${path}?v=2`]) assert.equal(await driver.probe(edge.node, HOST, p), 'miss', p);
    assert.equal(await driver.probe(edge.node, HOST, `${path}x`), 'hit');
  });

  it('applies back-to-back and concurrent rules (the plugin reloads only on a newer mtime second)', async () => {
    const dirs = [freshDir(), freshDir(), freshDir(), freshDir()];
    for (const d of dirs) await cache(`${d}a.css`);
    await ok(job({ objectType: 'directory', path: dirs[0] }));
    await ok(job({ objectType: 'directory', path: dirs[1] }));
    await Promise.all(dirs.slice(2).map((d) => ok(job({ objectType: 'directory', path: d }))));
    for (const d of dirs) assert.equal(await driver.probe(edge.node, HOST, `${d}a.css`), 'miss', d);
  });

  it('refreshes the same directory again after it was refetched', async () => {
    const dir = freshDir();
    await cache(`${dir}a.css`);
    await ok(job({ objectType: 'directory', path: dir }));
    // A refetch in the rule's own second still matches it (the plugin compares whole seconds).
    await new Promise((r) => setTimeout(r, 1100));
    await cache(`${dir}a.css`);
    await ok(job({ objectType: 'directory', path: dir }));
    assert.equal(await driver.probe(edge.node, HOST, `${dir}a.css`), 'miss');
    const lines = readFileSync(edge.node.options.regexRevalidateConfig as string, 'utf8').split('\n');
    assert.equal(lines.filter((l) => l.includes(dir)).length, 1, 'one line per regex');
  });

  it('fails permanently without the on-box options, and on an invalid regex', async () => {
    const bare: EdgeNode = { ...edge.node, options: {} };
    for (const objectType of ['directory', 'regex', 'ignoreparams'] as const) {
      const out = await driver.execute(bare, job({ objectType, path: '/static/' }), never);
      assert.ok(out.kind === 'permanent' && out.error.includes(ATS_NEEDS_ON_BOX) && out.description === 'Internal Error', JSON.stringify(out));
    }
    const out = await driver.execute(edge.node, job({ objectType: 'regex', path: '/static/(unclosed' }), never);
    assert.ok(out.kind === 'permanent' && /invalid regular expression/.test(out.error), JSON.stringify(out));
  });

  it('retries when traffic_ctl cannot reach traffic_manager', async () => {
    const rules = join(edge.dir, 'elsewhere.config');
    writeFileSync(rules, '');
    const node: EdgeNode = { ...edge.node, options: { ...edge.node.options, regexRevalidateConfig: rules, runroot: join(edge.dir, 'missing.yaml') } };
    const out = await driver.execute(node, job({ objectType: 'directory', path: freshDir() }), never);
    assert.ok(out.kind === 'retryable' && /traffic_ctl/.test(out.error), JSON.stringify(out));
  });

  it('preloads: a MISS becomes a HIT served without the origin', async () => {
    const path = `${freshDir()}p.bin`;
    assert.equal(await driver.probe(edge.node, HOST, path), 'miss');
    assert.deepEqual(await ok(job({ kind: 'preload', objectType: 'preload', path, headers: { 'X-Warm': ['1'] } })), { kind: 'ok', detail: 'fetched 200' });
    assert.equal(await driver.probe(edge.node, HOST, path), 'hit');
    await get(path);
    assert.equal(hits(path), 1);
  });

  it('fails a preload permanently when the origin answers 500', async () => {
    const out = await driver.execute(edge.node, job({ kind: 'preload', objectType: 'preload', path: `/status/500${freshDir()}` }), never);
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
