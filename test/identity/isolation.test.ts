import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { addAccount } from '../../src/identity/admin.js';
import { formatUtc } from '../../src/protocol/encoding.js';
import { PRODUCTS } from '../../src/spec/index.js';
import type { ActionSpec, ParamSpec, ProductSpec } from '../../src/spec/types.js';
import { normalize, rpc, type RpcResult } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Account isolation, property-style. Two servers, the same configuration, the same account A
 * (the root key of the test helper) and the same random sequence of A's calls — every action
 * of both products, with parameters drawn from A's own task ids, domains and paths mixed with
 * another account's. The other account differs between the two: B on server 1 and B′ on
 * server 2 submit at the same points (so task ids line up) but on other domains, with other
 * paths and other amounts. If anything of B leaked into A's answers — a row, a count, a page,
 * a quota — the two servers' answers to A would differ. Also: nothing of B ever appears in an
 * answer to A unless A itself sent it, and B's tasks and quotas are exactly what B made them.
 *
 * The seed is random per run (REFRESHD_TEST_SEED to replay) and named in every failure.
 */
const SEED = Number(process.env.REFRESHD_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STEPS = 400;
const CONFIG = {
  perMinutePerDomain: 25,
  preloadQueue: 8,
  quotas: { cdn: { url: 60, dir: 30, regex: 3, ignoreParams: 60, preload: 12 }, vod: { url: 40, dir: 6, preload: 10 } },
};

interface Tenant {
  creds: { id: string; secret: string };
  cdn: string[];
  vod: string;
  wildcard: string;
  /** What this tenant created: task id → paths, per product. */
  tasks: Map<string, { product: 'cdn' | 'vod'; paths: string[]; tag?: true }>;
  usage: { cdnUrl: number; vodUrl: number; preload: number; dir: number };
}

interface World {
  server: TestServer;
  other: Tenant;
}

let worlds: [World, World];
/**
 * Origins that answer 404 to everything and count what they are asked: A's domains read from
 * `aOrigin` (an ExpandManifest of A's own manifest fails to fetch, the same on both servers);
 * the other accounts' domains from `trap`, which A's calls must never make refreshd read.
 */
const origins = { aOrigin: { url: '', hits: 0, server: undefined as Server | undefined }, trap: { url: '', hits: 0, server: undefined as Server | undefined } };

async function countingOrigin(o: { url: string; hits: number; server: Server | undefined }): Promise<void> {
  o.server = createServer((_, res) => {
    o.hits++;
    res.writeHead(404, { 'content-length': '0' }).end();
  });
  await new Promise<void>((r) => o.server!.listen(0, '127.0.0.1', r));
  o.url = `http://127.0.0.1:${(o.server.address() as AddressInfo).port}`;
}
const A = { cdn: ['a1.example.com', 'a2.example.com'], vod: 'av.example.com', wildcard: '*.wild-a.com' };
const aTasks: { id: string; paths: string[] }[] = [];
/** Tags A purged itself (in any format: an XML answer is not parsed for the task id). */
const aTags = new Set<string>();
/** ClientTokens A's accepted submits used: only these may ever answer A IdempotentParameterMismatch. */
const aTokens = new Set<string>();
/** ClientTokens the other tenants used (the same on both servers, with other parameters on each). */
const theirTokens: string[] = [];

function mulberry32(seed: number) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const chance = (p: number) => rnd() < p;
const word = () => Math.floor(rnd() * 36 ** 5).toString(36);

async function world(names: { cdn: string[]; vod: string; wildcard: string }): Promise<World> {
  const server = await startTestServer(CONFIG);
  for (const d of A.cdn) await server.addDomain(d, 'cdn', origins.aOrigin.url);
  await server.addDomain(A.wildcard, 'cdn', origins.aOrigin.url);
  await server.addDomain(A.vod, 'vod', origins.aOrigin.url);
  const { account, key } = await addAccount(server.store, server.vault, `other-${names.vod}`);
  const add = (name: string, product: 'cdn' | 'vod') =>
    server.store.domains.addDomain({ name, accountId: account.id, product, origin: origins.trap.url, online: true, nodeGroup: 'default', createdAt: Date.now() });
  for (const d of names.cdn) await add(d, 'cdn');
  await add(names.wildcard, 'cdn');
  await add(names.vod, 'vod');
  return { server, other: { creds: { id: key.accessKeyId, secret: key.secret }, ...names, tasks: new Map(), usage: { cdnUrl: 0, vodUrl: 0, preload: 0, dir: 0 } } };
}

before(async () => {
  await countingOrigin(origins.aOrigin);
  await countingOrigin(origins.trap);
  worlds = [
    await world({ cdn: ['b1.example.com', 'b2.example.net'], vod: 'bv.example.com', wildcard: '*.wild-b.com' }),
    await world({ cdn: ['c1.other.org', 'c2.other.org'], vod: 'cv.other.org', wildcard: '*.wild-c.com' }),
  ];
});
after(async () => {
  await Promise.all(worlds.map((w) => w.server.close()));
  for (const o of Object.values(origins)) o.server?.closeAllConnections(), o.server?.close();
});

/**
 * Everything of the other tenants that A must never see: their task ids, domains and paths — but
 * not a tag A purged on its own domain too (tags belong to no domain, and A's rows name them).
 */
function foreignStrings(): string[] {
  const own = new Set([...aTasks.flatMap((t) => t.paths), ...aTags]);
  return worlds.flatMap(({ other }) => [
    ...other.tasks.keys(), ...other.cdn, other.vod, other.wildcard, ...[...other.tasks.values()].flatMap((t) => t.paths),
  ]).filter((s) => !own.has(s));
}

// ------------------------------------------------------------------ A's random calls

function randomDomain(product: 'cdn' | 'vod'): string {
  const others = worlds.flatMap(({ other }) => [...other.cdn, other.vod, `x${word()}${other.wildcard.slice(1)}`]);
  return pick([
    ...(product === 'cdn' ? A.cdn : [A.vod]), ...A.cdn, A.vod, `x${word()}${A.wildcard.slice(1)}`, ...others, `${word()}.unknown.test`,
  ]);
}

function ownPath(product: 'cdn' | 'vod'): string {
  const domain = product === 'vod' ? A.vod : pick([...A.cdn, `x${word()}${A.wildcard.slice(1)}`]);
  return `${pick(['http://', 'https://', ''])}${domain}/${word()}${pick(['.html', '.js', '.m3u8', '.mpd'])}`;
}

function randomPath(product: 'cdn' | 'vod'): string {
  const theirs = worlds.flatMap(({ other }) => [...other.tasks.values()].flatMap((t) => t.paths));
  if (theirs.length > 0 && chance(0.25)) return pick(theirs);
  const mine = aTasks.flatMap((t) => t.paths);
  if (mine.length > 0 && chance(0.2)) return pick(mine);
  return `${pick(['http://', 'https://', ''])}${randomDomain(product)}/${word()}${pick(['.html', '/', '.js', '.m3u8', '.mpd'])}`;
}

function randomTaskId(): string {
  const theirs = worlds.flatMap(({ other }) => [...other.tasks.keys()]);
  return pick([
    ...(aTasks.length ? [pick(aTasks).id, pick(aTasks).id] : []), ...(theirs.length ? [pick(theirs), pick(theirs)] : []),
    String(17_000_000_000 + int(1, 400)), chance(0.1) ? 'abc' : '17000000001',
  ]);
}

/** A value for one parameter of an action, from its table entry (so new actions are covered too). */
function randomValue(name: string, spec: ParamSpec, product: 'cdn' | 'vod'): string {
  switch (name) {
    case 'ObjectPath': {
      if (!spec.required) return randomPath(product);
      // Half the submits only name A's own domains, so many succeed; the rest mix in anything.
      const path = chance(0.5) ? () => ownPath(product) : () => randomPath(product);
      return Array.from({ length: int(1, 4) }, path).join(pick(['\n', '\r\n']));
    }
    case 'TaskId':
      return spec.required ? Array.from({ length: int(1, 4) }, randomTaskId).join(',') : randomTaskId();
    case 'DomainName':
      return Array.from({ length: int(1, 3) }, () => randomDomain(product)).join(',');
    case 'StartTime':
      return formatUtc(Date.now() - int(1, 3) * 3_600_000);
    case 'EndTime':
      return formatUtc(Date.now() + 60_000);
    case 'CacheTag': {
      // A's own tags, and now and then one of the other account's (tag rows name their tag).
      const theirs = worlds.flatMap(({ other }) => [...other.tasks.values()].filter((t) => t.tag).flatMap((t) => t.paths));
      return Array.from({ length: int(1, 3) }, () => (theirs.length && chance(0.3) ? pick(theirs) : `tag-${word()}`)).join(',');
    }
    case 'WithHeader':
      return chance(0.8) ? '{"Accept-Encoding":["gzip"]}' : 'nope';
    case 'Timeout':
      return '0'; // WaitForTasks: answer at once
    case 'ClientToken':
      // A's own few tokens (so retries and mismatches happen), and now and then one the other account used.
      return theirTokens.length && chance(0.3) ? pick(theirTokens) : pick(['tok-1', 'tok-2', 'tok-3', `tok-${word()}`]);
  }
  switch (spec.type) {
    case 'enum':
      return chance(0.05) ? 'Everything' : pick(spec.values);
    case 'boolean':
      return String(chance(0.5));
    case 'integer':
      return String(int(spec.min, Math.min(spec.max, spec.min + (name === 'PageSize' ? 20 : 2))));
    case 'string':
      return word();
  }
}

function randomCall(): { product: ProductSpec; action: ActionSpec; params: Record<string, string>; format: string; method: 'GET' | 'POST' } {
  const product = pick(PRODUCTS);
  const action = pick(Object.values(product.actions));
  const params: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.params)) {
    // Timeout (WaitForTasks) always: answering at once keeps 400 steps quick.
    if (name === 'Timeout' || (spec.required ? chance(0.97) : chance(0.4))) params[name] = randomValue(name, spec, product.product);
  }
  // StartTime and EndTime come together (mostly).
  if (('StartTime' in params) !== ('EndTime' in params) && chance(0.8)) {
    delete params.StartTime;
    delete params.EndTime;
  }
  return { product, action, params, format: pick(['JSON', 'XML']), method: pick(['GET', 'POST'] as const) };
}

// ------------------------------------------------------------- the other tenants' steps

/** B and B′ submit at the same point, each on its own domains, in different amounts. */
async function otherSubmits(step: number): Promise<void> {
  const kind = pick(['cdn', 'tag', 'vod', step % 3 === 0 ? 'preload' : 'cdn'] as const);
  const base = int(1, 2);
  for (const [i, { server, other }] of worlds.entries()) {
    const n = kind === 'preload' ? 1 + i : base + i; // B′ always uses more than B
    const domain = kind === 'vod' ? other.vod : pick(other.cdn);
    if (kind === 'tag') {
      // A purge by tag on B's own domain, with B's own tags (its rows are named by the tags).
      const tags = Array.from({ length: 1 + i }, () => `secret-${word()}`);
      const res = await rpc(server.url, 'RefreshObjectCacheByCacheTag', { CacheTag: tags.join(','), DomainName: domain }, { accessKeyId: other.creds.id, secret: other.creds.secret });
      assert.equal(res.status, 200, `seed ${SEED}: the other tenant's own tag purge failed: ${res.text}`);
      other.tasks.set(res.json.RefreshTaskId, { product: 'cdn', paths: tags, tag: true });
      other.usage.dir += tags.length;
      continue;
    }
    const paths = Array.from({ length: n }, () => `http://${domain}/private/${word()}.html`);
    const [action, version] = kind === 'vod' ? ['RefreshVodObjectCaches', '2017-03-21'] : kind === 'preload' ? ['PushObjectCache', '2018-05-10'] : ['RefreshObjectCaches', '2018-05-10'];
    // The same token on both servers (for other paths on each): a token is the account's own.
    const token = `their-${step}`;
    if (i === 0) theirTokens.push(token);
    const res = await rpc(server.url, action, { ObjectPath: paths.join('\n'), ClientToken: token }, { version, accessKeyId: other.creds.id, secret: other.creds.secret });
    assert.equal(res.status, 200, `seed ${SEED}: the other tenant's own submit failed: ${res.text}`);
    const id = res.json.RefreshTaskId ?? res.json.PushTaskId;
    other.tasks.set(id, { product: kind === 'vod' ? 'vod' : 'cdn', paths });
    if (kind === 'vod') other.usage.vodUrl += n;
    else if (kind === 'preload') other.usage.preload += n;
    else other.usage.cdnUrl += n;
  }
  assert.deepEqual([...worlds[0].other.tasks.keys()], [...worlds[1].other.tasks.keys()], 'task ids line up on both servers');
}

// ---------------------------------------------------------------------------- the test

describe('account isolation (property test over every action of both products)', () => {
  const calls = new Map<string, number>();
  let rowsSeen = 0;

  it(`${STEPS} random calls of account A answer identically whatever the other account holds (seed ${SEED})`, async () => {
    const otherSteps = new Set(Array.from({ length: 12 }, (_, i) => Math.floor(((i + rnd() * 0.8) * STEPS) / 12)));
    for (let step = 0; step < STEPS; step++) {
      if (otherSteps.has(step)) await otherSubmits(step);
      const call = randomCall();
      const answers: RpcResult[] = [];
      for (const { server } of worlds) {
        answers.push(await rpc(server.url, call.action.name, call.params, { version: call.product.version, format: call.format, method: call.method }));
      }
      const where = `seed ${SEED}, step ${step}: ${call.product.product} ${call.action.name} ${JSON.stringify(call.params)}`;
      assert.equal(answers[0].status, answers[1].status, `${where}\n${answers[0].text}\n${answers[1].text}`);
      assert.equal(normalize(answers[0].text), normalize(answers[1].text), where);
      const sent = JSON.stringify(call.params).toLowerCase();
      for (const s of foreignStrings()) {
        for (const a of answers) {
          if (new RegExp(`(^|[^\\w.-])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w.-])`, 'i').test(a.text)) {
            assert.ok(sent.includes(s.toLowerCase()), `${where}: answer names "${s}" of another account, which A never sent:\n${a.text}`);
          }
        }
      }
      calls.set(call.action.name, (calls.get(call.action.name) ?? 0) + 1);
      const body = answers[0].json;
      const token = call.params.ClientToken;
      if (token !== undefined && /IdempotentParameterMismatch/.test(answers[0].text)) {
        assert.ok(aTokens.has(token), `${where}: token ${token} answered as used, but A never used it`);
      }
      if (answers[0].status === 200) {
        if (token !== undefined) aTokens.add(token);
        for (const tag of call.params.CacheTag?.split(',') ?? []) aTags.add(tag.trim());
        const id = body.RefreshTaskId ?? body.PushTaskId ?? body.PreloadTaskId;
        if (typeof id === 'string') {
          const paths = call.params.ObjectPath?.split(/\r?\n/) ?? call.params.CacheTag.split(',');
          for (const t of id.split(',')) aTasks.push({ id: t, paths });
        }
        rowsSeen += (body.Tasks?.CDNTask ?? body.Tasks?.Task ?? (Array.isArray(body.Tasks) ? body.Tasks : body.Items ?? body.UrlDetails ?? [])).length;
      }
    }
  });

  it('never made refreshd read another account’s origin (ExpandManifest through a domain A does not own)', async () => {
    assert.equal(origins.trap.hits, 0, `seed ${SEED}: another account's origin was read`);
    // A's own manifest is looked for on A's origin (which has none).
    const seen = origins.aOrigin.hits;
    const own = await rpc(worlds[0].server.url, 'PushObjectCache', { ObjectPath: `${A.cdn[0]}/own.m3u8`, ExpandManifest: 'true' });
    assert.deepEqual([own.status, own.json.Code, origins.aOrigin.hits - seen], [400, 'InvalidManifest.FetchFailed', 1], own.text);
    // And on purpose: their manifest, their wildcard's, and a list mixing A's own with theirs.
    for (const { server, other } of worlds) {
      for (const path of [`${other.cdn[0]}/hls/master.m3u8`, `x1${other.wildcard.slice(1)}/v.mpd`, `${A.cdn[0]}/own.m3u8\n${other.cdn[1]}/theirs.m3u8`]) {
        const res = await rpc(server.url, 'PushObjectCache', { ObjectPath: path, ExpandManifest: 'true' });
        assert.deepEqual([res.status, res.json.Code], [404, 'InvalidDomain.NotFound'], res.text);
      }
      const vod = await rpc(server.url, 'PreloadVodObjectCaches', { ObjectPath: `${other.vod}/m.m3u8`, ExpandManifest: 'true' }, { version: '2017-03-21' });
      assert.deepEqual([vod.status, vod.json.Code], [404, 'InvalidDomain.NotFound'], vod.text);
    }
    assert.equal(origins.trap.hits, 0, 'another account’s origin was read');
  });

  it('exercised every action of both tables, and saw A’s own rows', () => {
    for (const p of PRODUCTS) for (const name of Object.keys(p.actions)) assert.ok((calls.get(name) ?? 0) >= 5, `${name} was called ${calls.get(name) ?? 0} times`);
    assert.ok(aTasks.length >= 5, `A created ${aTasks.length} tasks`);
    assert.ok(rowsSeen >= 20, `A's describes returned ${rowsSeen} rows`);
  });

  it("left the other account's tasks and quotas exactly as it made them", async () => {
    for (const { server, other } of worlds) {
      const as = (action: string, params: Record<string, string | number>, version = '2018-05-10') =>
        rpc(server.url, action, params, { version, accessKeyId: other.creds.id, secret: other.creds.secret });
      for (const [product, action, version] of [['cdn', 'DescribeRefreshTasks', '2018-05-10'], ['vod', 'DescribeVodRefreshTasks', '2017-03-21']] as const) {
        const rows: string[] = [];
        for (let page = 1; ; page++) {
          const res = await as(action, { PageSize: 50, PageNumber: page }, version);
          assert.equal(res.status, 200, res.text);
          const list = res.json.Tasks.CDNTask ?? res.json.Tasks.Task;
          rows.push(...list.map((t: any) => `${t.TaskId} ${t.ObjectPath}`));
          // No worker runs: what A could have done to them (a cancel) is the only way they could have changed.
          for (const t of list) assert.ok(t.Status !== 'Failed' && t.Description === '', `seed ${SEED}: ${t.TaskId} ${t.ObjectPath} is ${t.Status} ${t.Description}`);
          if (list.length < 50) break;
        }
        const expected = [...other.tasks].filter(([, t]) => t.product === product).flatMap(([id, t]) => t.paths.map((p) => `${id} ${p}`));
        assert.deepEqual(rows.sort(), expected.sort(), `seed ${SEED}: ${product} rows of the other account`);
      }
      const cdnQuota = (await as('DescribeRefreshQuota', {})).json;
      assert.equal(Number(cdnQuota.UrlRemain), CONFIG.quotas.cdn.url - other.usage.cdnUrl);
      assert.equal(Number(cdnQuota.PreloadRemain), CONFIG.quotas.cdn.preload - other.usage.preload);
      assert.equal(Number(cdnQuota.DirRemain), CONFIG.quotas.cdn.dir - other.usage.dir);
      const userQuota = (await as('DescribeCdnUserQuota', {})).json;
      assert.deepEqual([userQuota.RefreshUrlRemain, userQuota.RefreshDirRemain, userQuota.PreloadRemain],
        [CONFIG.quotas.cdn.url - other.usage.cdnUrl, CONFIG.quotas.cdn.dir - other.usage.dir, CONFIG.quotas.cdn.preload - other.usage.preload]);
      const vodQuota = (await as('DescribeVodRefreshQuota', {}, '2017-03-21')).json;
      assert.equal(Number(vodQuota.UrlRemain), CONFIG.quotas.vod.url - other.usage.vodUrl);
    }
  });
});
