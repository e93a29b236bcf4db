import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EdgeNode } from '../../src/edges/driver.js';
import { EdgeHttpClient } from '../../src/edges/http-client.js';
import { createDrivers } from '../../src/edges/registry.js';
import { edgeConfig } from './harness/edge-config.js';
import { startEngine, type Engine } from './harness/engine.js';
import { startOrigin, type Origin } from './harness/origin.js';
import { startVarnish, varnishConfigArgs } from './harness/varnish.js';

/**
 * Regex and cache-tag purges verified on sample URLs (VerifyUrl) and on the node's canary, on a
 * real Varnish loaded with `refreshd edge config varnish`, through refreshd (API, worker, store):
 * Complete with Verified=Probe (or Canary) when the cache purges; Failed with the documented
 * reason on a Varnish whose VCL acknowledges BAN and xkey purges without doing them (the setup
 * of verified.test.ts's lying PURGE, for the other methods); Ack when there is nothing to look at.
 */
let origin: Origin;
let engine: Engine;
const http = new EdgeHttpClient({ connectionsPerNode: 2, timeoutMs: 5000 });
const varnish = createDrivers(http).varnish;
const stops: (() => Promise<void>)[] = [];

before(async () => {
  origin = await startOrigin();
  engine = await startEngine();
});
after(async () => {
  for (const stop of stops.reverse()) await stop();
  await engine?.close();
  await http.close();
  await origin?.close();
});

/** A Varnish in its own group serving `domain`, with refreshd's VCL or one changed by `lie`. */
async function edge(name: string, domain: string, options: Record<string, unknown>, lie?: (vcl: string) => string): Promise<EdgeNode> {
  const honest = edgeConfig('varnish', varnishConfigArgs(origin.port));
  const vcl = lie ? lie(honest) : honest;
  if (lie) assert.notEqual(vcl, honest, 'the lie changed the VCL');
  const v = await startVarnish(origin.port, {}, vcl);
  stops.push(v.stop);
  const node: EdgeNode = { id: 0, name, driver: 'varnish', address: v.address, options };
  await engine.add(node, `g-${name}`, domain, origin.url);
  return node;
}

/** Fetch through the node until it holds each path (HIT). */
async function cache(node: EdgeNode, domain: string, paths: string[]): Promise<void> {
  for (const path of paths) {
    await http.send(node.address, { method: 'GET', path, headers: { host: domain } });
    assert.equal(await varnish.probe!(node, domain, path), 'hit', `${path} cached on ${node.name}`);
  }
}

const states = (node: EdgeNode, domain: string, paths: string[]) => Promise.all(paths.map((p) => varnish.probe!(node, domain, p)));
const verified = (t: { nodes: { Node: string; State: string; Verified: string }[] }) => t.nodes.map((n) => [n.Node, n.State, n.Verified]);

describe('varnish that purges: regex and tag purges verified on their samples', () => {
  const D = 'samples.example.com';
  let node: EdgeNode;
  before(async () => {
    node = await edge('v-samples', D, { canary: `http://${D}/rx/canary.css` });
  });

  it('a regex purge with VerifyUrl is Complete, verified by probe, and the next request gets the new body', async () => {
    await cache(node, D, ['/rx/a.css', '/rx/deep/b.css', '/keep/c.css']);
    origin.bump('/rx/a.css');
    const task = await engine.refresh([`${D}/rx/.*\\.css`], 'Regex', true, { VerifyUrl: `http://${D}/rx/a.css\nhttp://${D}/rx/deep/b.css` });
    assert.equal(task.status, 'Complete', JSON.stringify(task));
    assert.deepEqual(verified(task), [['v-samples', 'Applied', 'Probe']]);
    assert.deepEqual(await states(node, D, ['/rx/a.css', '/rx/deep/b.css', '/keep/c.css']), ['miss', 'miss', 'hit']);
    const next = await http.send(node.address, { method: 'GET', path: '/rx/a.css', headers: { host: D } });
    assert.match(next.text, / v2\n$/);
  });

  it('a tag purge with VerifyUrl is Complete, verified by probe; a soft one leaves the samples stale', async () => {
    const tagged = ['/tagged/cache-tag/sale/p1.txt', '/tagged/cache-tag/sale%2Cnew/p2.txt'];
    const other = '/tagged/cache-tag/other/p3.txt';
    await cache(node, D, [...tagged, other]);
    const hard = await engine.purgeTags(D, ['sale'], true, { VerifyUrl: tagged.map((p) => `${D}${p}`).join('\n') });
    assert.equal(hard.status, 'Complete', JSON.stringify(hard));
    assert.deepEqual(verified(hard), [['v-samples', 'Applied', 'Probe']]);
    assert.deepEqual(await states(node, D, [...tagged, other]), ['miss', 'miss', 'hit']);

    await cache(node, D, tagged);
    const soft = await engine.purgeTags(D, ['sale'], false, { VerifyUrl: `${D}${tagged[0]}` });
    assert.deepEqual([soft.status, ...verified(soft)], ['Complete', ['v-samples', 'Applied', 'Probe']]);
    assert.deepEqual(await states(node, D, tagged), ['stale', 'stale']);
  });

  it('without samples: a regex that covers the node\'s canary is proven on it (warmed, then gone); otherwise Ack', async () => {
    const warmedBefore = origin.hits.get('/rx/canary.css') ?? 0;
    const canary = await engine.refresh([`${D}/rx/.*\\.css`], 'Regex', true);
    assert.deepEqual([canary.status, ...verified(canary)], ['Complete', ['v-samples', 'Applied', 'Canary']]);
    assert.equal(origin.hits.get('/rx/canary.css'), warmedBefore + 1, 'the canary was fetched through the node before the purge');
    assert.equal(await varnish.probe!(node, D, '/rx/canary.css'), 'miss');

    const elsewhere = await engine.refresh([`${D}/img/.*\\.png`], 'Regex', true);
    assert.deepEqual([elsewhere.status, ...verified(elsewhere)], ['Complete', ['v-samples', 'Applied', 'Ack']]);
    const tag = await engine.purgeTags(D, ['sale'], true);
    assert.deepEqual([tag.status, ...verified(tag)], ['Complete', ['v-samples', 'Applied', 'Ack']]);
  });
});

describe('varnish that acknowledges BAN and xkey purges without doing them', () => {
  const D = 'liar-samples.example.com';
  let node: EdgeNode;
  before(async () => {
    node = await edge('v-liar-samples', D, { canary: `http://${D}/rx/canary.css` }, (vcl) => vcl
      .replace('std.ban("obj.http.x-host == " + req.http.host + " && obj.http.x-url ~ " + req.http.X-Ban-Regex)', 'true')
      .replace('xkey.purge(req.http.X-Key)', '"1"')
      .replace('xkey.softpurge(req.http.X-Key)', '"1"'));
  });

  it('a regex purge with VerifyUrl is Failed: purge acknowledged but the sample still cached, after its retries', async () => {
    await cache(node, D, ['/rx/a.css']);
    const task = await engine.refresh([`${D}/rx/.*\\.css`], 'Regex', true, { VerifyUrl: `${D}/rx/a.css` });
    assert.equal(task.status, 'Failed');
    assert.deepEqual([task.nodes[0].State, task.nodes[0].Verified, task.nodes[0].Attempts], ['Failed', 'Probe', 3]);
    assert.match(task.nodes[0].Error, /^gave up after 3 attempts: purge acknowledged but liar-samples\.example\.com\/rx\/a\.css still cached \(probe: HIT\)$/);
    assert.equal(await varnish.probe!(node, D, '/rx/a.css'), 'hit', 'the object is indeed still there');
  });

  it('a tag purge with VerifyUrl is Failed the same way, hard or soft', async () => {
    const path = '/tagged/cache-tag/sale/p1.txt';
    await cache(node, D, [path]);
    for (const force of [true, false]) {
      const task = await engine.purgeTags(D, ['sale'], force, { VerifyUrl: `http://${D}${path}` });
      assert.equal(task.status, 'Failed');
      assert.deepEqual([task.nodes[0].State, task.nodes[0].Verified, task.nodes[0].Attempts], ['Failed', 'Probe', 3]);
      assert.match(task.nodes[0].Error, /^gave up after 3 attempts: purge acknowledged but liar-samples\.example\.com\/tagged\/cache-tag\/sale\/p1\.txt still cached \(probe: HIT\)$/);
    }
  });

  it('a regex without samples fails on the canary; a tag without samples can only be taken at its word', async () => {
    const task = await engine.refresh([`${D}/rx/.*\\.css`], 'Regex', true);
    assert.equal(task.status, 'Failed');
    assert.deepEqual([task.nodes[0].State, task.nodes[0].Verified], ['Failed', 'Canary']);
    assert.match(task.nodes[0].Error, /^gave up after 3 attempts: purge acknowledged but the canary liar-samples\.example\.com\/rx\/canary\.css still cached \(probe: HIT\)$/);
    const tag = await engine.purgeTags(D, ['sale'], true);
    assert.deepEqual([tag.status, ...verified(tag)], ['Complete', ['v-liar-samples', 'Applied', 'Ack']]);
  });
});
