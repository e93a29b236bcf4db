import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { SubmitType } from '../../src/domain/object-path.js';
import { toEdgeTarget, type EdgeJob, type EdgeNode, type Outcome } from '../../src/edges/driver.js';
import { EdgeHttpClient } from '../../src/edges/http-client.js';
import { banRegex, VarnishDriver } from '../../src/edges/varnish.js';
import { edgeConfig } from './harness/edge-config.js';
import { startOrigin, type Origin } from './harness/origin.js';
import { freePort } from './harness/process.js';
import { startVarnish, varnishConfigArgs, type Varnish } from './harness/varnish.js';
import { eventually } from '../helpers/settle.js';

// One varnishd and one origin for the whole file; every test uses its own paths so they never
// share cached objects. Each test checks the cache (probe) and the origin (hit counts) before
// and after, so a driver that sent nothing, or the wrong thing, fails.
let origin: Origin;
let varnish: Varnish;
let client: EdgeHttpClient;
let driver: VarnishDriver;
let node: EdgeNode;
const signal = new AbortController().signal;

function job(kind: EdgeJob['kind'], objectType: SubmitType, objectPath: string, force = true, headers: Record<string, string[]> = {}): EdgeJob {
  const { scheme, host, path } = toEdgeTarget(objectPath);
  return { kind, objectType, force, objectPath, host, scheme, path, headers, origin: origin.url };
}
const refresh = (type: SubmitType, objectPath: string, force = true, on = node) => driver.execute(on, job('refresh', type, objectPath, force), signal);
const preload = (objectPath: string, on = node) => driver.execute(on, job('preload', 'preload', objectPath), signal);
const probe = (path: string, host = 'a.example') => driver.probe(node, host, path);
const hits = (path: string) => origin.hits.get(path) ?? 0;
const get = (path: string, host = 'a.example', headers: Record<string, string> = {}) =>
  client.send(varnish.address, { method: 'GET', path, headers: { ...headers, host } });

/** Put each path in the cache (through a client GET) and prove it is a hit. */
async function cache(paths: string[], host = 'a.example'): Promise<void> {
  for (const path of paths) {
    assert.equal((await get(path, host)).status, 200);
    assert.equal(await probe(path, host), 'hit', `${host}${path} should be cached`);
  }
}
async function states(paths: string[]): Promise<string[]> {
  return Promise.all(paths.map((p) => probe(p)));
}
function assertOk(outcome: Outcome, detail: RegExp): void {
  assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
  assert.match((outcome as { detail: string }).detail, detail);
}

before(async () => {
  origin = await startOrigin();
  varnish = await startVarnish(origin.port, {
    // A 1 s first-byte timeout keeps the origin-timeout test short.
    first_byte_timeout: '1',
    // With gzip support on (the default) Varnish always asks the origin for gzip and ignores
    // Vary: Accept-Encoding when matching, so the test origin's /vary/ paths would make one object.
    // Off, each client Accept-Encoding gets its own variant, as behind an origin that compresses.
    http_gzip_support: 'off',
  }, edgeConfig('varnish', [...varnishConfigArgs(origin.port), '--tag-header', 'X-Product-Tags']));
  client = new EdgeHttpClient();
  driver = new VarnishDriver(client);
  node = { id: 1, name: 'varnish-1', driver: 'varnish', address: varnish.address, options: {} };
});
after(async () => {
  await client?.close();
  await varnish?.stop();
  await origin?.close();
});

describe('varnish driver: refresh', () => {
  test('File: PURGE drops the object (force=false too), a second PURGE is still ok', async () => {
    await cache(['/file/a.css', '/file/b.css']);
    assertOk(await refresh('file', 'http://a.example/file/a.css', false), /^200 Purged$/);
    assert.deepEqual(await states(['/file/a.css', '/file/b.css']), ['miss', 'hit']);
    assertOk(await refresh('file', 'a.example/file/a.css'), /^404 Not in cache$/);
    await get('/file/a.css');
    assert.equal(hits('/file/a.css'), 2, 'the next GET went to the origin');
  });

  test('File: one PURGE removes every Vary variant', async () => {
    await get('/vary/v.css', 'a.example', { 'accept-encoding': 'gzip' });
    await get('/vary/v.css');
    assert.equal(hits('/vary/v.css'), 2, 'two variants stored');
    const gzipProbe = () => client.send(varnish.address, { method: 'HEAD', path: '/vary/v.css', headers: { host: 'a.example', 'accept-encoding': 'gzip', 'x-cache-probe': '1' } });
    assert.equal((await gzipProbe()).headers['x-cache'], 'HIT');
    assert.equal(await probe('/vary/v.css'), 'hit');
    assertOk(await refresh('file', 'a.example/vary/v.css'), /^200 Purged$/);
    assert.equal((await gzipProbe()).status, 404);
    assert.equal(await probe('/vary/v.css'), 'miss');
  });

  test('purges are scoped by Host: b.example does not touch a.example (Host is normalised)', async () => {
    await cache(['/host/x.css']);
    assertOk(await refresh('file', 'b.example/host/x.css'), /^404 Not in cache$/);
    assertOk(await refresh('directory', 'b.example/host/'), /^200 Invalidated 0 objects$/);
    assertOk(await refresh('regex', 'b.example/host/.*'), /^200 Ban added$/);
    assert.equal(await probe('/host/x.css'), 'hit');
    // A client that sent `A.Example:80` cached the object under the same key the driver purges.
    assert.equal((await get('/host/y.css', 'A.Example:80')).status, 200);
    assert.equal(await probe('/host/y.css'), 'hit');
    assertOk(await refresh('file', 'a.example/host/y.css'), /^200 Purged$/);
    assert.equal(await probe('/host/y.css'), 'miss');
  });

  test('Directory via xkey, force=true: the directory and below, nothing else', async () => {
    const paths = ['/dx/css/a.css', '/dx/css/deep/b.css', '/dx/js/c.js', '/dxother/d.css'];
    await cache(paths);
    assertOk(await refresh('directory', 'a.example/dx/css/'), /^200 Invalidated 2 objects$/);
    assert.deepEqual(await states(paths), ['miss', 'miss', 'hit', 'hit']);
  });

  test('Directory via xkey, force=false: stale, served at once, then refetched', async () => {
    await cache(['/ds/a/p.css']);
    origin.bump('/ds/a/p.css');
    assertOk(await refresh('directory', 'a.example/ds/a/', false), /^200 Invalidated 1 objects$/);
    assert.equal(await probe('/ds/a/p.css'), 'stale');
    assert.equal((await get('/ds/a/p.css')).text, '/ds/a/p.css v1\n', 'the stale copy is served without waiting');
    await eventually(() => hits('/ds/a/p.css') >= 2, 'the background refetch to reach the origin');
    assert.equal(hits('/ds/a/p.css'), 2, 'the stale hit triggered one background refetch');
    // The origin has answered; Varnish stores the new copy a moment later (longer on a busy machine).
    await eventually(async () => (await probe('/ds/a/p.css')) === 'hit', 'Varnish to store the refetched copy');
    assert.equal((await get('/ds/a/p.css')).text, '/ds/a/p.css v2\n');
  });

  test('Directory deeper than the xkey tags falls back to a (hard) BAN', async () => {
    const paths = ['/deep/a/b/c/x.css', '/deep/a/b/c/d/y.css', '/deep/a/b/z.css'];
    await cache(paths);
    assertOk(await refresh('directory', 'a.example/deep/a/b/c/', false), /^200 Ban added$/);
    assert.deepEqual(await states(paths), ['miss', 'miss', 'hit']);
  });

  test("Directory with options.directory='ban'", async () => {
    const paths = ['/db/a/x.css', '/db/y.css', '/dbx/z.css'];
    await cache(paths);
    assertOk(await refresh('directory', 'a.example/db/', true, { ...node, options: { directory: 'ban' } }), /^200 Ban added$/);
    assert.deepEqual(await states(paths), ['miss', 'miss', 'hit']);
  });

  test('Regex: BAN anchored at the start of the path', async () => {
    const paths = ['/rx/a.png', '/rx/sub/b.png', '/rx/c.jpg', '/other/rx/d.png'];
    await cache(paths);
    assertOk(await refresh('regex', 'a.example/rx/.*\\.png', false), /^200 Ban added$/);
    assert.deepEqual(await states(paths), ['miss', 'miss', 'hit', 'hit']);
  });

  test('IgnoreParams: every query variant of the path, not other paths', async () => {
    const paths = ['/ip/p.css?a=1', '/ip/p.css?b=2', '/ip/p.css', '/ip/p.css2', '/ip/q.css?a=1', '/ip/pxcss'];
    await cache(paths);
    assertOk(await refresh('ignoreparams', 'a.example/ip/p.css?z=9'), /^200 Ban added$/);
    assert.deepEqual(await states(paths), ['miss', 'miss', 'miss', 'hit', 'hit', 'hit']);
  });

  test('a regex Varnish cannot compile is permanent, with its message', async () => {
    const outcome = await refresh('regex', 'a.example/bad/(');
    assert.equal(outcome.kind, 'permanent');
    assert.equal((outcome as { description: string }).description, 'Internal Error');
    assert.match((outcome as { error: string }).error, /missing closing parenthesis/);
  });

  test('a regex with spaces and quotes still makes one valid ban', async () => {
    // Varnish splits a ban on whitespace and quotes: the driver sends them as PCRE \xHH escapes
    // (an escaped space loses its backslash, an escaped backslash keeps both). Clients send both
    // characters percent-encoded, so what the cache test can show is that the ban is accepted.
    assert.equal(banRegex('^/a b\\ c"d\\\\ e'), '^/a\\x20b\\x20c\\x22d\\\\\\x20e');
    const paths = ['/sp/a%22b.css', '/sp/a.css'];
    await cache(paths);
    assertOk(await refresh('regex', 'a.example/sp/a(%22| |")b'), /^200 Ban added$/);
    assert.deepEqual(await states(paths), ['miss', 'hit']);
  });
});

describe('varnish driver: preload and failures', () => {
  test('preload turns a miss into a hit with exactly one origin fetch', async () => {
    assert.equal(await probe('/pre/app.js'), 'miss');
    assert.equal(hits('/pre/app.js'), 0, 'the probe did not fetch');
    assertOk(await preload('a.example/pre/app.js'), /^200 X-Cache: MISS$/);
    assert.equal(await probe('/pre/app.js'), 'hit');
    assert.equal(hits('/pre/app.js'), 1);
  });

  test('origin 500 on preload: permanent Origin Return StatusCode 5XX', async () => {
    const outcome = await preload('a.example/status/500/x.js');
    assert.equal(outcome.kind, 'permanent', JSON.stringify(outcome));
    assert.equal((outcome as { description: string }).description, 'Origin Return StatusCode 5XX');
    assert.equal(hits('/status/500/x.js'), 1);
  });

  test('origin slower than first_byte_timeout: permanent Origin Timeout', async () => {
    const outcome = await preload('a.example/slow/1500/x.js');
    assert.equal(outcome.kind, 'permanent', JSON.stringify(outcome));
    assert.equal((outcome as { description: string }).description, 'Origin Timeout');
  });

  test('origin 404 on preload: permanent Internal Error', async () => {
    const outcome = await preload('a.example/status/404/x.js');
    assert.deepEqual(outcome, { kind: 'permanent', description: 'Internal Error', error: 'origin answered 404' });
  });

  test('an unreachable node is retryable, for refresh and preload', async () => {
    const down = { ...node, address: `127.0.0.1:${await freePort()}` };
    for (const outcome of [await refresh('file', 'a.example/x.css', true, down), await preload('a.example/x.css', down)]) {
      assert.equal(outcome.kind, 'retryable');
      assert.match((outcome as { error: string }).error, /ECONNREFUSED/);
    }
  });

  test('a node that accepts but never answers is retryable', async () => {
    // A black hole, not Varnish: Varnish itself would answer 503 at its first-byte timeout.
    const sockets: Socket[] = [];
    const hole = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    // undici checks header timeouts on a coarse (~0.5 s) tick, so this takes about a second.
    const impatient = new EdgeHttpClient({ connectionsPerNode: 1, timeoutMs: 300 });
    try {
      const silent = { ...node, address: `127.0.0.1:${(hole.address() as AddressInfo).port}` };
      const outcome = await new VarnishDriver(impatient).execute(silent, job('refresh', 'file', 'a.example/t.js'), signal);
      assert.equal(outcome.kind, 'retryable');
      assert.match((outcome as { error: string }).error, /did not answer in time/);
    } finally {
      await impatient.close();
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => hole.close(resolve));
    }
  });
});

describe('varnish driver: purge by cache tag (xkey)', () => {
  const tagJob = (tag: string, force: boolean, host = 'a.example'): EdgeJob =>
    ({ kind: 'refresh', objectType: 'cachetag', force, objectPath: tag, host, scheme: 'http', path: tag, headers: {}, origin: origin.url });
  const A = '/tagged/cache-tag/shared%2C%20p1/a.txt';
  const B = '/tagged/surrogate-key/x%20shared/b.txt';
  const C = '/tagged/cache-tag/other/c.txt';
  const D = '/tagged/x-product-tags/p2%2Cshared2/d.txt';

  test('two objects share a tag, one has none of it: the purge evicts exactly the two', async () => {
    await cache([A, B, C, '/untagged/e.txt']);
    await cache([A], 'b.example');
    assertOk(await driver.execute(node, tagJob('shared', true), signal), /^200 Invalidated 2 objects$/);
    assert.deepEqual(await states([A, B, C, '/untagged/e.txt']), ['miss', 'miss', 'hit', 'hit']);
    assert.equal(await probe(A, 'b.example'), 'hit', "another domain's object with the same tag stays");
    const before = hits(A);
    await get(A);
    assert.equal(hits(A), before + 1, 'the next GET went to the origin');
  });

  test('Force=false is a soft purge: the objects turn stale, and are kept for revalidation', async () => {
    await cache(['/tagged/cache-tag/soft/s1.txt', '/tagged/cache-tag/soft%2Cx/s2.txt', '/tagged/cache-tag/hard/s3.txt']);
    assertOk(await driver.execute(node, tagJob('soft', false), signal), /^200 Invalidated 2 objects$/);
    assert.deepEqual(await states(['/tagged/cache-tag/soft/s1.txt', '/tagged/cache-tag/soft%2Cx/s2.txt', '/tagged/cache-tag/hard/s3.txt']), ['stale', 'stale', 'hit']);
  });

  test('a configured tag header (X-Product-Tags) is read too; an unknown tag purges nothing', async () => {
    await cache([D]);
    assertOk(await driver.execute(node, tagJob('nothing-has-this', true), signal), /^200 Invalidated 0 objects$/);
    assertOk(await driver.execute(node, tagJob('shared2', true), signal), /^200 Invalidated 1 objects$/);
    assert.equal(await probe(D), 'miss');
  });
});
