import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { EdgeDriver, EdgeNode } from '../../src/edges/driver.js';
import { EdgeHttpClient } from '../../src/edges/http-client.js';
import { createDrivers } from '../../src/edges/registry.js';
import { rpc } from '../helpers/rpc.js';
import { startAts } from './harness/ats.js';
import { edgeConfig } from './harness/edge-config.js';
import { startEngine, type Engine } from './harness/engine.js';
import { startNginx } from './harness/nginx.js';
import { startOrigin, type Origin } from './harness/origin.js';
import { startSquid } from './harness/squid.js';
import { startVarnish, varnishConfigArgs } from './harness/varnish.js';

/**
 * Each driver end to end on its real server, through refreshd (API, worker, store): the server
 * loads what `refreshd edge config` prints; an object is a HIT; a File refresh is Complete,
 * verified by the node's probe; the next request misses and fetches the new origin body.
 * `refreshd node check` passes on it and fails, with the sentence docs/caches.md documents, on
 * the distribution's default configuration. A Varnish that answers 200 to PURGE without purging
 * makes the task Failed under probe verification, and Complete only under `verify: ack`.
 */
let origin: Origin;
let engine: Engine;
const http = new EdgeHttpClient({ connectionsPerNode: 2, timeoutMs: 5000 });
const drivers: Record<string, EdgeDriver> = createDrivers(http);
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

/** HIT → refresh → probe-verified Complete → MISS with the origin's new body. */
async function refreshesForReal(node: EdgeNode, domain: string, path: string): Promise<void> {
  const driver = drivers[node.driver];
  const get = () => http.send(node.address, { method: 'GET', path, headers: { host: domain } });
  await get();
  await get();
  assert.equal(await driver.probe!(node, domain, path), 'hit', `${path} cached on ${node.name}`);
  origin.bump(path);
  assert.match((await get()).text, / v1\n$/, 'the cache still serves the old body');
  const fetched = origin.hits.get(path) ?? 0;
  const task = await engine.refresh([`http://${domain}${path}`]);
  assert.equal(task.status, 'Complete', JSON.stringify(task));
  assert.deepEqual(task.nodes.map((n) => [n.Node, n.State, n.Verified]), [[node.name, 'Applied', 'Probe']]);
  assert.equal(await driver.probe!(node, domain, path), 'miss');
  const next = await get();
  assert.equal(origin.hits.get(path), fetched + 1, 'the next request was a miss that reached the origin');
  assert.match(next.text, / v2\n$/, 'with the new body');
}

/** PushObjectCache, waited for like engine.refresh. */
async function rpcPreload(path: string) {
  const res = await rpc(engine.server.url, 'PushObjectCache', { ObjectPath: path }, { method: 'POST' });
  assert.equal(res.status, 200, res.text);
  const taskId = String(res.json.PushTaskId);
  assert.equal((await rpc(engine.server.url, 'WaitForTasks', { TaskId: taskId, Timeout: 30 })).json.Done, true);
  const items = (await rpc(engine.server.url, 'DescribeRefreshTaskNodes', { TaskId: taskId })).json.Items;
  return { status: items[0].Status as string, nodes: items.flatMap((i: { Nodes: { Verified: string }[] }) => i.Nodes) };
}

async function checkPasses(name: string, url: string): Promise<void> {
  const r = await engine.cli('node', 'check', name, '--url', url);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, new RegExp(`${name}\\tPASSED`));
}

async function checkFails(node: EdgeNode, url: string, sentence: RegExp): Promise<void> {
  await engine.server.store.fleet.addNode({ name: node.name, driver: node.driver, address: node.address, group: `${node.name}-alone`, area: 'domestic', enabled: true, options: node.options, createdAt: 0 });
  const r = await engine.cli('node', 'check', node.name, '--url', url);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, new RegExp(`${node.name}\\tFAIL\\tfailed\\t`));
  assert.match(r.out, sentence);
  const json = await engine.cli('node', 'check', node.name, '--url', url, '--json');
  assert.equal(json.code, 1);
  const [report] = JSON.parse(json.out);
  assert.equal(report.ok, false);
  assert.match(report.diagnosis, sentence);
}

describe('varnish: printed VCL, probe-verified tasks, node check', () => {
  it('refreshes for real and passes node check', async () => {
    const v = await startVarnish(origin.port);
    stops.push(v.stop);
    const node: EdgeNode = { id: 0, name: 'v-real', driver: 'varnish', address: v.address, options: {} };
    await engine.add(node, 'g-varnish', 'varnish.example.com', origin.url);
    await refreshesForReal(node, 'varnish.example.com', '/e2e/v.css');
    await checkPasses('v-real', 'http://varnish.example.com/check/v.css');
  });

  it('verifies a soft directory purge (stale), a preload (fresh hit) on the probe; a regex on the ack', async () => {
    const node = (await engine.server.store.fleet.listNodes()).find((n) => n.name === 'v-real')!;
    const get = (path: string) => http.send(node.address, { method: 'GET', path, headers: { host: 'varnish.example.com' } });
    await get('/soft/');
    await get('/soft/a.css');
    const soft = await engine.refresh(['http://varnish.example.com/soft/'], 'Directory', false);
    assert.deepEqual([soft.status, soft.nodes[0].Verified], ['Complete', 'Probe']);
    assert.equal(await drivers.varnish.probe!(node, 'varnish.example.com', '/soft/'), 'stale');
    const pre = await rpcPreload('http://varnish.example.com/pre/p.js');
    assert.deepEqual([pre.status, pre.nodes[0].Verified], ['Complete', 'Probe']);
    assert.equal(await drivers.varnish.probe!(node, 'varnish.example.com', '/pre/p.js'), 'hit');
    const regex = await engine.refresh(['http://varnish.example.com/rx/.*\\.css'], 'Regex');
    assert.deepEqual([regex.status, regex.nodes[0].Verified], ['Complete', 'Ack']);
  });

  it("Debian's default VCL: node check fails, and a task's node error says PURGE reached the origin", async () => {
    const vcl = readFileSync('/etc/varnish/default.vcl', 'utf8').replace('.port = "8080"', `.port = "${origin.port}"`);
    const v = await startVarnish(origin.port, {}, vcl);
    stops.push(v.stop);
    const node: EdgeNode = { id: 0, name: 'v-default', driver: 'varnish', address: v.address, options: {} };
    await checkFails(node, 'http://vdefault.example.com/check/d.css', /the probe was not answered as refreshd's configuration answers it \(200, no X-Cache\): load `refreshd edge config varnish` on v-default/);
    await engine.server.store.domains.addDomain({ name: 'vdefault.example.com', accountId: engine.server.accountId, product: 'cdn', origin: origin.url, online: true, nodeGroup: 'v-default-alone', createdAt: 0 });
    const task = await engine.refresh(['http://vdefault.example.com/d/x.css']);
    assert.equal(task.status, 'Failed');
    assert.match(task.nodes[0].Error, /PURGE reached the origin, not the cache \(the answer 200 has no X-Varnish\): load `refreshd edge config varnish` on v-default$/);
  });

  it('a VCL that answers 200 to PURGE without purging: Failed with probe, Complete only with ack', async () => {
    const honest = edgeConfig('varnish', varnishConfigArgs(origin.port));
    const liar = honest.replace('if (req.method == "PURGE")     { purge.hard(); return (synth(200, "Purged")); }', 'if (req.method == "PURGE")     { return (synth(200, "Purged")); }');
    assert.notEqual(liar, honest);
    const v = await startVarnish(origin.port, {}, liar);
    stops.push(v.stop);
    const node: EdgeNode = { id: 0, name: 'v-liar', driver: 'varnish', address: v.address, options: {} };
    await engine.add(node, 'g-liar', 'liar.example.com', origin.url);
    const path = '/liar/a.css';
    await http.send(v.address, { method: 'GET', path, headers: { host: 'liar.example.com' } });
    assert.equal(await drivers.varnish.probe!(node, 'liar.example.com', path), 'hit');

    const probed = await engine.refresh([`http://liar.example.com${path}`]);
    assert.equal(probed.status, 'Failed');
    assert.deepEqual([probed.nodes[0].State, probed.nodes[0].Verified, probed.nodes[0].Attempts], ['Failed', 'Probe', 3]);
    assert.match(probed.nodes[0].Error, /^gave up after 3 attempts: purge acknowledged but object still cached \(probe of liar\.example\.com\/liar\/a\.css: HIT\)$/);
    assert.match((await engine.cli('node', 'check', 'v-liar', '--url', `http://liar.example.com${path}`)).out, /PURGE was acknowledged but the canary is still cached \(probe: HIT\): v-liar answers PURGE without evicting/);

    const set = await engine.cli('group', 'set', 'g-liar', '--verify', 'ack');
    assert.equal(set.code, 0, set.err);
    await new Promise((r) => setTimeout(r, 1500)); // the worker reads group settings every second
    const acked = await engine.refresh([`http://liar.example.com${path}`]);
    assert.equal(acked.status, 'Complete');
    assert.deepEqual([acked.nodes[0].State, acked.nodes[0].Verified], ['Applied', 'Ack']);
    assert.equal(await drivers.varnish.probe!(node, 'liar.example.com', path), 'hit', 'and the object is still there: ack cannot tell');
  });
});

describe('nginx: printed config, probe-verified tasks, node check', () => {
  it('refreshes for real and passes node check; fails on Debian\'s default site', async () => {
    const edge = await startNginx(origin.port);
    stops.push(edge.stop);
    const node = { ...edge.node, name: 'n-real' };
    await engine.add(node, 'g-nginx', 'nginx.example.com', origin.url);
    await refreshesForReal(node, 'nginx.example.com', '/e2e/n.css');
    await checkPasses('n-real', 'http://nginx.example.com/check/n.css');
    const plain = await startNginx(origin.port, { debianDefault: true });
    stops.push(plain.stop);
    await checkFails({ ...plain.node, name: 'n-default' }, 'http://nginx.example.com/check/d.css',
      /the probe was not answered as refreshd's configuration answers it \(404, no X-Cache\): load `refreshd edge config nginx` on n-default/);
  });
});

describe('squid: printed config, probe-verified tasks, node check', () => {
  it('refreshes for real and passes node check; fails on Debian\'s default squid.conf', async () => {
    const edge = await startSquid(origin.port);
    stops.push(edge.stop);
    const node = { ...edge.node, name: 's-real' };
    await engine.add(node, 'g-squid', 'squid.example.com', origin.url);
    await refreshesForReal(node, 'squid.example.com', '/e2e/s.css');
    await checkPasses('s-real', 'http://squid.example.com/check/s.css');
    const plain = await startSquid(origin.port, { debianDefault: true });
    stops.push(plain.stop);
    await checkFails({ ...plain.node, name: 's-default' }, 'http://squid.example.com/check/d.css',
      /the probe was not answered as refreshd's configuration answers it \(\d{3}, [^)]*\): load `refreshd edge config squid` on s-default/);
  });
});

describe('ats: printed config, probe-verified tasks, node check', () => {
  it('refreshes for real and passes node check (regex_revalidate included); fails on the packaged config', async () => {
    const edge = await startAts(origin.port);
    stops.push(edge.stop);
    const node = { ...edge.node, name: 'a-real' };
    await engine.add(node, 'g-ats', 'www.example.com', origin.url);
    await refreshesForReal(node, 'www.example.com', '/e2e/a.css');
    const r = await engine.cli('node', 'check', 'a-real', '--url', 'http://www.example.com/check/a.css');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /a-real\tok  \tregex_revalidate\t/);
    const plain = await startAts(origin.port, { debianDefault: true });
    stops.push(plain.stop);
    await checkFails({ ...plain.node, name: 'a-default', options: {} }, 'http://www.example.com/check/d.css',
      /a-default has no remap rule for this domain \(probe answered 404\): load `refreshd edge config ats` --domain <the domain> and reload it/);
  });
});
