import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { formatUtc } from '../../src/protocol/encoding.js';
import { ERRORS, type ErrorCode } from '../../src/spec/errors.js';
import { assertAnsweredErrorsListed } from '../helpers/answered-errors.js';
import { rpc, type RpcResult } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startOrigin, type Origin } from '../edges/harness/origin.js';

/**
 * Every code in the error catalogue, reached through a listening server the way a client would
 * reach it, answered with the catalogue's HTTP status and message. The last test fails if a code
 * is added to the catalogue without a case here.
 */
let main: TestServer;
let strict: TestServer;
let origin: Origin;
const reached = new Set<string>();
const VOD = { version: '2017-03-21' };
const ago = (ms: number) => formatUtc(Date.now() - ms);
const HOUR = 3_600_000;

before(async () => {
  main = await startTestServer();
  await main.addDomain('example.com');
  await main.addDomain('offline.example.com');
  origin = await startOrigin();
  await main.addDomain('origin.example.com', 'cdn', origin.url);
  await main.store.domains.setDomainOnline('offline.example.com', false);
  await main.addKey('LTAIdisabledkey', 's', { active: false });
  await main.store.identity.createUser({ accountId: main.accountId, name: 'alice', displayName: '', createdAt: 0 });
  await main.addKey('LTAIramuserkey', 'ram-secret', { userName: 'alice' }); // no policy attached: implicit deny
  // Tight limits, rate limiting on: for the quota and throttling codes.
  strict = await startTestServer({
    rateLimits: true, perMinutePerDomain: 2, preloadQueue: 1, quotas: { cdn: { url: 5, preload: 5 } },
    http: { headersTimeoutMs: 500, requestTimeoutMs: 1_000 },
  });
  for (const d of ['a.example.com', 'b.example.com', 'c.example.com', 'p.example.com', 'q.example.com']) await strict.addDomain(d);
});
after(async () => {
  await main.close();
  await strict.close();
  await origin.close();
});

type Case = [ErrorCode, () => Promise<RpcResult>, string?];
const cases: Case[] = [
  ['MissingParameter', () => rpc(main.url, 'RefreshObjectCaches', {})],
  ['InvalidParameter', () => rpc(main.url, 'DescribeRefreshTasks', { PageSize: 0 })],
  ['InvalidParameter.Format', () => rpc(main.url, 'DescribeRefreshQuota', {}, { format: 'YAML' })],
  ['IncompleteSignature', () => raw(main, { authorization: 'ACS3-HMAC-SHA256 Credential=x' })],
  ['SignatureDoesNotMatch', () => rpc(main.url, 'DescribeRefreshQuota', {}, { secret: 'wrong' })],
  ['InvalidSignatureMethod', () => rpc(main.url, 'DescribeRefreshQuota', {}, { tamper: (p) => p.set('SignatureMethod', 'HMAC-MD5') })],
  ['SignatureNonceUsed', async () => {
    await rpc(main.url, 'DescribeRefreshQuota', {}, { nonce: 'fixed-nonce-1' });
    return rpc(main.url, 'DescribeRefreshQuota', {}, { nonce: 'fixed-nonce-1' });
  }],
  ['InvalidTimeStamp.Expired', () => rpc(main.url, 'DescribeRefreshQuota', {}, { timestamp: ago(16 * 60_000) })],
  ['InvalidTimeStamp.Format', () => rpc(main.url, 'DescribeRefreshQuota', {}, { timestamp: '2026-11-23 10:00:00' })],
  ['InvalidAccessKeyId.NotFound', () => rpc(main.url, 'DescribeRefreshQuota', {}, { accessKeyId: 'LTAInobody' })],
  ['InvalidAccessKeyId.Inactive', () => rpc(main.url, 'DescribeRefreshQuota', {}, { accessKeyId: 'LTAIdisabledkey', secret: 's' })],
  ['InvalidAction.NotFound', () => rpc(main.url, 'DeleteEverything', {})],
  ['InvalidVersion', () => rpc(main.url, 'DescribeRefreshQuota', {}, { version: '2014-11-11' })],
  ['UnsupportedHTTPMethod', () => raw(main, {}, 'PUT')],
  ['Forbidden.RAM', () => rpc(main.url, 'DescribeRefreshQuota', {}, { accessKeyId: 'LTAIramuserkey', secret: 'ram-secret' })],
  ['RequestHeaderTooLarge', () => raw(main, {}, 'GET', '/?ObjectPath=' + 'x'.repeat(129 * 1024))],
  ['RequestBodyTooLarge', () => raw(main, { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', '/', 'ObjectPath=' + 'x'.repeat(4 * 1024 * 1024))],
  ['RequestTimeout', () => unfinished(strict, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n')],
  ['Throttling', () => burst(45, () => rpc(strict.url, 'DescribeRefreshQuota', {}))],
  ['TooManyRequests', () => burst(15, () => rpc(strict.url, 'DescribeRefreshTasks', {}))],
  ['OperationDenied', async () => {
    await main.store.identity.setServiceState(main.accountId, 'vod', 'none');
    try { return await rpc(main.url, 'DescribeVodRefreshQuota', {}, VOD); } finally { await main.store.identity.setServiceState(main.accountId, 'vod', 'active'); }
  }],
  ['OperationDenied.Suspended', async () => {
    await main.store.identity.setServiceState(main.accountId, 'vod', 'suspended');
    try { return await rpc(main.url, 'DescribeVodRefreshQuota', {}, VOD); } finally { await main.store.identity.setServiceState(main.accountId, 'vod', 'active'); }
  }],
  ['InvalidDomain.NotFound', () => rpc(main.url, 'RefreshObjectCaches', { ObjectPath: 'http://someone-else.com/a' })],
  ['InvalidDomain.Offline', () => rpc(main.url, 'RefreshObjectCaches', { ObjectPath: 'http://offline.example.com/a' })],
  ['QuotaExceeded.Refresh', async () => {
    await rpc(strict.url, 'RefreshObjectCaches', { ObjectPath: 'a.example.com/1\na.example.com/2' });
    return rpc(strict.url, 'RefreshObjectCaches', { ObjectPath: 'b.example.com/1\nb.example.com/2\nb.example.com/3\nb.example.com/4' });
  }],
  // 2 of 5 URLs used today: 3 more fit the day, not the domain's 2 a minute.
  ['QuotaPerMinuteExceeded.Refresh', () => rpc(strict.url, 'RefreshObjectCaches', { ObjectPath: 'c.example.com/1\nc.example.com/2\nc.example.com/3' })],
  ['PreloadQueueFull', async () => {
    await rpc(strict.url, 'PushObjectCache', { ObjectPath: 'p.example.com/1' });
    return rpc(strict.url, 'PushObjectCache', { ObjectPath: 'p.example.com/2' });
  }],
  ['QuotaExceeded.Refresh', async () => {
    // Finish the queued preload by hand so the queue has room and only the daily quota bites.
    strict.store.raw.exec("UPDATE items SET status = 'Complete', nodes_total = 1, nodes_applied = 1 WHERE object_type = 'preload'");
    return rpc(strict.url, 'PushObjectCache', { ObjectPath: Array.from({ length: 5 }, (_, i) => `q.example.com/${i}`).join('\n') });
  }, 'preload quota (Alibaba uses the refresh code for preloads too)'],
  ['SingleRequest.OverLimit', () => rpc(main.url, 'RefreshObjectCaches', { ObjectType: 'Directory', ObjectPath: Array.from({ length: 101 }, (_, i) => `example.com/d${i}/`).join('\n') })],
  ['InvalidObjectPath.Malformed', () => rpc(main.url, 'RefreshObjectCaches', { ObjectPath: 'ftp://example.com/a' })],
  ['InvalidObjectType.ValueNotSupported', () => rpc(main.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/a', ObjectType: 'Everything' })],
  ['IdempotentParameterMismatch', async () => {
    await rpc(main.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/token-1', ClientToken: 'error-codes' });
    return rpc(main.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/token-2', ClientToken: 'error-codes' });
  }],
  ['InvalidTaskId.Malformed', () => rpc(main.url, 'DescribeRefreshTasks', { TaskId: '12a' })],
  ['MissingParameter.ObjectType', () => rpc(main.url, 'DescribeRefreshTasks', { DomainName: 'example.com' })],
  ['MissingTimeParameter', () => rpc(main.url, 'DescribeRefreshTasks', { StartTime: ago(HOUR) })],
  ['InvalidEndTime.Mismatch', () => rpc(main.url, 'DescribeRefreshTasks', { StartTime: ago(HOUR), EndTime: ago(2 * HOUR) })],
  ['DomainNameOverLimit', () => rpc(main.url, 'DescribeRefreshTasks', { ObjectType: 'file', DomainName: Array.from({ length: 501 }, (_, i) => `d${i}.example.com`).join(',') })],
  ['InvalidTime', () => rpc(main.url, 'DescribeRefreshTasks', { StartTime: ago(4 * 24 * HOUR), EndTime: ago(HOUR) })],
  ['InvalidStartTime.Malformed', () => rpc(main.url, 'DescribeRefreshTasks', { StartTime: 'monday', EndTime: ago(HOUR) })],
  ['InvalidEndTime.Malformed', () => rpc(main.url, 'DescribeRefreshTasks', { StartTime: ago(HOUR), EndTime: '2026-13-01T00:00:00Z' })],
  ['InvalidStartTime.ValueNotSupported', () => rpc(main.url, 'DescribeRefreshTasks', { StartTime: formatUtc(Date.now() + HOUR), EndTime: formatUtc(Date.now() + 2 * HOUR) })],
  ['InvalidEndTime.ValueNotSupported', () => rpc(main.url, 'DescribeRefreshTasks', { StartTime: ago(HOUR), EndTime: ago(HOUR) })],
  ['InvalidStatus.ValueNotSupported', () => rpc(main.url, 'DescribeRefreshTasks', { ObjectType: 'file', Status: 'Done' })],
  ['ServiceUnavailable', async () => {
    // Another writer holds the database lock past the store's busy timeout.
    main.store.raw.pragma('busy_timeout = 50');
    const { default: Database } = await import('better-sqlite3');
    const other = new Database(`${main.dataDir}/refreshd.db`);
    other.exec('BEGIN EXCLUSIVE');
    try { return await rpc(main.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/locked' }); } finally {
      other.exec('ROLLBACK');
      other.close();
      main.store.raw.pragma('busy_timeout = 5000');
    }
  }],
  // Last: it breaks the store of `main` for good.
  ['InvalidParameter.PreloadAfter', () => rpc(main.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/d/', ObjectType: 'Directory', PreloadAfter: 'true' })],
  ['InvalidManifest.FetchFailed', () => rpc(main.url, 'PushObjectCache', { ObjectPath: 'example.com/v/index.m3u8', ExpandManifest: 'true' }), 'the domain has no origin'],
  ['InvalidManifest.Malformed', () => rpc(main.url, 'PushObjectCache', { ObjectPath: 'origin.example.com/v/index.m3u8', ExpandManifest: 'true' }), 'the origin answers a page that is no playlist'],
  ['InternalError', async () => {
    main.store.raw.close();
    return rpc(main.url, 'DescribeRefreshQuota', {});
  }],
];

describe('every catalogue error, through a listening server', () => {
  for (const [code, run, label] of cases) {
    it(label ? `${code}: ${label}` : code, async () => {
      const res = await run();
      assert.equal(res.json.Code, code, `body: ${res.text.slice(0, 300)}`);
      assert.equal(res.status, ERRORS[code].status);
      const pattern = ERRORS[code].message.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}/g, '.+');
      assert.match(res.json.Message, new RegExp(`^${pattern}`));
      assert.ok(!/at .+\.(ts|js):\d+/.test(res.text), 'no stack trace in the answer');
      if (code === 'Throttling' || code === 'TooManyRequests') assert.match(res.headers.get('x-acs-retry-after') ?? '', /^\d+$/);
      reached.add(code);
    });
  }
  it('covers the whole catalogue', () => {
    assert.deepEqual(Object.keys(ERRORS).filter((c) => !reached.has(c)), []);
  });
  it('each code an action answered is listed in its action table entry', assertAnsweredErrorsListed);
});

/** Fire n calls at once; return the first throttled answer (the limit must bite). */
async function burst(n: number, call: () => Promise<RpcResult>): Promise<RpcResult> {
  const all = await Promise.all(Array.from({ length: n }, call));
  const refused = all.filter((r) => r.status !== 200);
  assert.ok(refused.length >= 1, 'some calls were refused');
  return refused[0];
}

/** Bytes of a request that never ends: the server's timeout must answer. */
function unfinished(s: TestServer, text: string): Promise<RpcResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(s.port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (c) => (got += c));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, body] = got.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const headers = new Headers(head.split('\r\n').slice(1).map((l) => l.split(': ', 2) as [string, string]));
      resolve({ status, contentType: headers.get('content-type') ?? '', headers, text: body ?? '', json: body ? JSON.parse(body) : {} });
    });
  });
}

/** A hand-made HTTP request, for what no signing client would send. */
function raw(s: TestServer, headers: Record<string, string>, method = 'GET', path = '/', body?: string): Promise<RpcResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), headers: new Headers(res.headers as Record<string, string>), text, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
