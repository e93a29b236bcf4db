import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatUtc } from '../../src/protocol/encoding.js';
import { ERRORS, type ErrorCode } from '../../src/spec/errors.js';
import { assertAnsweredErrorsListed } from '../helpers/answered-errors.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Table-driven bad input for every action: missing, malformed, out of range, oversize, wrong
 * types, unicode and injection strings. Each must get its documented error (code and HTTP
 * status), and none may leave a trace: tasks, items and quota counters stay exactly as they were.
 */
let server: TestServer;
before(async () => {
  server = await startTestServer();
  await server.addDomain('example.com');
  await server.addDomain('vod.example.com', 'vod');
  // One accepted task, so "nothing stored" is measured against a non-empty store.
  await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://example.com/seed.txt' });
});
after(() => server.close());

const INJECTIONS = ["'; DROP TABLE items; --", '" OR 1=1 --', '<script>alert(1)</script>', '${7*7}', '../../etc/passwd', '%00', '\u202Eevil'];
const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
const HOUR = 3_600_000;

type Row = [string, Record<string, string | number | boolean>, ErrorCode, string?];
const ROWS: Row[] = [
  // RefreshObjectCaches
  ['RefreshObjectCaches', {}, 'MissingParameter'],
  ['RefreshObjectCaches', { ObjectPath: '' }, 'MissingParameter'],
  ['RefreshObjectCaches', { ObjectPath: '\n\r\n  \n' }, 'MissingParameter'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/a', ObjectType: 'file;drop' }, 'InvalidObjectType.ValueNotSupported'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/a', ObjectType: 7 }, 'InvalidObjectType.ValueNotSupported'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/a', ObjectType: 'constructor' }, 'InvalidObjectType.ValueNotSupported', 'an Object.prototype name is no alias'],
  ['DescribeRefreshTasks', { ObjectType: '__proto__' }, 'InvalidObjectType.ValueNotSupported', '__proto__ is no alias'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/a', Force: 'yes' }, 'InvalidParameter'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/a', Force: 1 }, 'InvalidParameter'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/' + 'a'.repeat(1100) }, 'InvalidObjectPath.Malformed'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/a\u0000b' }, 'InvalidObjectPath.Malformed'],
  ['RefreshObjectCaches', { ObjectPath: 'http://exa mple.com/a' }, 'InvalidObjectPath.Malformed'],
  ['RefreshObjectCaches', { ObjectPath: 'javascript:alert(1)//example.com/' }, 'InvalidObjectPath.Malformed'],
  ['RefreshObjectCaches', { ObjectPath: 'http:///a' }, 'InvalidObjectPath.Malformed'],
  ['RefreshObjectCaches', { ObjectPath: 'http://例子.com/a' }, 'InvalidObjectPath.Malformed'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/ok\nhttp://example.com/' + 'b'.repeat(1025) }, 'InvalidObjectPath.Malformed', 'one bad path refuses the whole call'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/dir', ObjectType: 'Directory' }, 'InvalidObjectPath.Malformed', 'directories end with /'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/img/(unclosed', ObjectType: 'Regex' }, 'InvalidObjectPath.Malformed'],
  ['RefreshObjectCaches', { ObjectPath: many(1001, (i) => `example.com/${i}`) }, 'SingleRequest.OverLimit'],
  ['RefreshObjectCaches', { ObjectPath: many(2, (i) => `example.com/r${i}.*`), ObjectType: 'Regex' }, 'SingleRequest.OverLimit'],
  ['RefreshObjectCaches', { ObjectPath: many(11, (i) => `d${i}.example.com/a`) }, 'SingleRequest.OverLimit', 'more than 10 domains'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/a\nhttp://not-mine.org/b' }, 'InvalidDomain.NotFound', 'one foreign domain refuses the whole call'],
  ['RefreshObjectCaches', { ObjectPath: 'http://vod.example.com/a' }, 'InvalidDomain.NotFound', 'a VOD domain is not a CDN domain'],
  // PushObjectCache
  ['PushObjectCache', {}, 'MissingParameter'],
  ['PushObjectCache', { ObjectPath: many(101, (i) => `example.com/${i}`) }, 'SingleRequest.OverLimit'],
  ['PushObjectCache', { ObjectPath: 'example.com/a', Area: 'mars' }, 'InvalidParameter'],
  ['PushObjectCache', { ObjectPath: 'example.com/a', L2Preload: 'maybe' }, 'InvalidParameter'],
  ['PushObjectCache', { ObjectPath: 'example.com/a', WithHeader: 'not json' }, 'InvalidParameter'],
  ['PushObjectCache', { ObjectPath: 'example.com/a', WithHeader: '["a"]' }, 'InvalidParameter'],
  ['PushObjectCache', { ObjectPath: 'example.com/a', WithHeader: '{"X-A":"not an array"}' }, 'InvalidParameter'],
  ['PushObjectCache', { ObjectPath: 'example.com/a', WithHeader: '{"X-A":["a\\r\\nInjected: 1"]}' }, 'InvalidParameter'],
  ['PushObjectCache', { ObjectPath: 'example.com/a', WithHeader: '{"Bad Name":["x"]}' }, 'InvalidParameter'],
  ['PushObjectCache', { ObjectPath: 'example.com/a', WithHeader: '{' + '"a":["b"],'.repeat(500) + '"z":["y"]}' }, 'InvalidParameter', 'oversize'],
  // Headers that frame the request or steer the connection are refreshd's, never a caller's.
  ...['Host', 'Connection', 'Keep-Alive', 'TE', 'Trailer', 'Transfer-Encoding', 'content-length', 'Upgrade', 'Expect', 'Proxy-Authorization'].map(
    (h): Row => ['PushObjectCache', { ObjectPath: 'example.com/a', WithHeader: JSON.stringify({ [h]: ['x'] }) }, 'InvalidParameter', `WithHeader ${h}`],
  ),
  ['PushObjectCache', { ObjectPath: 'example.com/a', WithHeader: '{"X-A":["1"],"x-a":["2"]}' }, 'InvalidParameter', 'WithHeader names differing only in case'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/a\u0085b' }, 'InvalidObjectPath.Malformed', 'U+0085 next line'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/a\u2028b' }, 'InvalidObjectPath.Malformed', 'U+2028 line separator'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/a\u202Egnp.exe' }, 'InvalidObjectPath.Malformed', 'U+202E bidi override'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com:0/a' }, 'InvalidObjectPath.Malformed', 'port 0'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com:99999/a' }, 'InvalidObjectPath.Malformed', 'port 99999'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/\\u{zz}', ObjectType: 'Regex' }, 'InvalidObjectPath.Malformed', 'regex PCRE2 refuses: \\u{zz}'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/\\k<x>', ObjectType: 'Regex' }, 'InvalidObjectPath.Malformed', 'regex PCRE2 refuses: \\k<x>'],
  ['RefreshObjectCaches', { ObjectPath: 'http://example.com/(?<=a+)b', ObjectType: 'Regex' }, 'InvalidObjectPath.Malformed', 'regex PCRE2 refuses: variable lookbehind'],
  ['DescribeRefreshTasks', Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`X${i}`, 'v'])), 'InvalidParameter', 'more than 100 parameters'],
  // DescribeRefreshTasks
  ['DescribeRefreshTasks', { PageSize: 101 }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { PageSize: -1 }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { PageSize: '20.5' }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { PageNumber: 0 }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { PageNumber: 100001 }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { PageNumber: '1e3' }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { PageNumber: '99999999999999999999' }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { TaskId: '-1' }, 'InvalidTaskId.Malformed'],
  ['DescribeRefreshTasks', { TaskId: '1 OR 1=1' }, 'InvalidTaskId.Malformed'],
  ['DescribeRefreshTasks', { TaskId: '１２３' }, 'InvalidTaskId.Malformed', 'full-width digits'],
  ['DescribeRefreshTasks', { TaskId: '9'.repeat(20) }, 'InvalidTaskId.Malformed'],
  ['DescribeRefreshTasks', { ObjectType: 'FILES' }, 'InvalidObjectType.ValueNotSupported'],
  ['DescribeRefreshTasks', { ObjectType: 'file', Status: 'complete; drop' }, 'InvalidStatus.ValueNotSupported'],
  ['DescribeRefreshTasks', { Status: 'Complete' }, 'MissingParameter.ObjectType'],
  ['DescribeRefreshTasks', { ObjectPath: 'http://example.com/\u0001' }, 'InvalidObjectPath.Malformed'],
  ['DescribeRefreshTasks', { ObjectPath: 'x'.repeat(1025) }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { EndTime: formatUtc(Date.now()) }, 'MissingTimeParameter'],
  ['DescribeRefreshTasks', { StartTime: '2026-02-30T00:00:00Z', EndTime: formatUtc(Date.now()) }, 'InvalidStartTime.Malformed'],
  ['DescribeRefreshTasks', { StartTime: formatUtc(Date.now() - HOUR), EndTime: '1700000000' }, 'InvalidEndTime.Malformed'],
  // DescribeRefreshTaskById
  ['DescribeRefreshTaskById', {}, 'MissingParameter'],
  ['DescribeRefreshTaskById', { TaskId: '1,,2' }, 'InvalidTaskId.Malformed'],
  ['DescribeRefreshTaskById', { TaskId: Array.from({ length: 11 }, (_, i) => 17000000000 + i).join(',') }, 'InvalidTaskId.Malformed'],
  ['DescribeRefreshTaskById', { TaskId: '17000000001;DELETE FROM items' }, 'InvalidTaskId.Malformed'],
  ['DescribeRefreshTaskById', { TaskId: '1'.repeat(1025) }, 'InvalidParameter'],
  // RefreshObjectCacheByCacheTag
  ['RefreshObjectCacheByCacheTag', {}, 'MissingParameter'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a' }, 'MissingParameter', 'no DomainName'],
  ['RefreshObjectCacheByCacheTag', { DomainName: 'example.com' }, 'MissingParameter', 'no CacheTag'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: ' , ,', DomainName: 'example.com' }, 'MissingParameter', 'only commas'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a b', DomainName: 'example.com' }, 'InvalidParameter', 'a space inside a tag'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'ok,标签', DomainName: 'example.com' }, 'InvalidParameter', 'non-ASCII tag'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a\u0000b', DomainName: 'example.com' }, 'InvalidParameter', 'control character'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 't'.repeat(129), DomainName: 'example.com' }, 'InvalidParameter', 'a tag over 128 characters'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 't,'.repeat(700) + 't', DomainName: 'example.com' }, 'InvalidParameter', 'oversize'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: many(11, (i) => `t${i}`).replace(/\n/g, ','), DomainName: 'example.com' }, 'SingleRequest.OverLimit', '11 tags'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a', DomainName: 'example.com', Force: 'soon' }, 'InvalidParameter'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a', DomainName: 'not-mine.org' }, 'InvalidDomain.NotFound'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a', DomainName: 'vod.example.com' }, 'InvalidDomain.NotFound', 'a VOD domain'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a', DomainName: 'example.com,vod.example.com' }, 'InvalidDomain.NotFound', 'one domain only'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a', DomainName: 'd'.repeat(254) }, 'InvalidParameter', 'DomainName too long'],
  // VerifyUrl (refreshd extension): samples in the purge's scope, at most 10, never with File
  ['RefreshObjectCaches', { ObjectPath: 'example.com/a.css', VerifyUrl: 'example.com/a.css' }, 'InvalidParameter', 'VerifyUrl with File'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/img/', ObjectType: 'Directory', VerifyUrl: 'example.com/css/a.css' }, 'InvalidParameter', 'VerifyUrl outside the directory'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/img/', ObjectType: 'Directory', VerifyUrl: 'other.example.com/img/a.png' }, 'InvalidParameter', 'VerifyUrl on another domain'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/img/', ObjectType: 'Directory', VerifyUrl: many(11, (i) => `example.com/img/${i}.png`) }, 'InvalidParameter', '11 VerifyUrl samples'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/img/', ObjectType: 'Directory', VerifyUrl: 'http://example.com/img/a\u0000.png' }, 'InvalidParameter', 'VerifyUrl with a control character'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/img/', ObjectType: 'Directory', VerifyUrl: 'ftp://example.com/img/a.png' }, 'InvalidParameter', 'VerifyUrl not http(s)'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/img/.*\\.png', ObjectType: 'Regex', VerifyUrl: 'example.com/img/a.jpg' }, 'InvalidParameter', 'VerifyUrl the regex does not match'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/(a+)+b', ObjectType: 'Regex', VerifyUrl: 'example.com/' + 'a'.repeat(40) }, 'InvalidParameter', 'VerifyUrl matched by a catastrophic regex: refused in time'],
  ['RefreshObjectCaches', { ObjectPath: 'example.com/a.js?v=1', ObjectType: 'IgnoreParams', VerifyUrl: 'example.com/b.js?v=1' }, 'InvalidParameter', 'VerifyUrl not a URL of an IgnoreParams call'],
  ['RefreshObjectCacheByCacheTag', { CacheTag: 'a', DomainName: 'example.com', VerifyUrl: 'other.example.com/a.png' }, 'InvalidParameter', 'VerifyUrl off the tag\'s domain'],
  ['RefreshVodObjectCaches', { ObjectPath: 'vod.example.com/v/', ObjectType: 'Directory', VerifyUrl: 'vod.example.com/w/a.mp4' }, 'InvalidParameter', 'VOD VerifyUrl outside the directory'],
  // DescribePreloadDetailById
  ['DescribePreloadDetailById', {}, 'MissingParameter'],
  ['DescribePreloadDetailById', { TaskId: '12a' }, 'InvalidTaskId.Malformed'],
  ['DescribePreloadDetailById', { TaskId: '17000000001,17000000002' }, 'InvalidTaskId.Malformed', 'one id at a time'],
  ['DescribePreloadDetailById', { TaskId: '9'.repeat(20) }, 'InvalidTaskId.Malformed'],
  ['DescribePreloadDetailById', { TaskId: '1'.repeat(65) }, 'InvalidParameter'],
  ['DescribeRefreshTasks', { ObjectType: 'cachetag', Status: 'Pendingx' }, 'InvalidStatus.ValueNotSupported'],
  // VOD
  ['RefreshVodObjectCaches', { ObjectPath: 'http://vod.example.com/a', ObjectType: 'Block' }, 'InvalidObjectType.ValueNotSupported'],
  ['RefreshVodObjectCaches', { ObjectPath: 'http://example.com/a' }, 'InvalidDomain.NotFound'],
  ['PreloadVodObjectCaches', {}, 'MissingParameter'],
  ['DescribeVodRefreshTasks', { PageSize: 51 }, 'InvalidParameter', 'VOD pages stop at 50'],
  ['DescribeVodRefreshTasks', { ObjectType: 'block' }, 'InvalidObjectType.ValueNotSupported'],
  ['DescribeVodRefreshTasks', { DomainName: 'vod.example.com' }, 'MissingParameter.ObjectType'],
];
for (const s of INJECTIONS) {
  ROWS.push(['RefreshObjectCaches', { ObjectPath: s }, 'InvalidObjectPath.Malformed', `injection ${JSON.stringify(s)}`]);
  ROWS.push(['DescribeRefreshTaskById', { TaskId: s }, 'InvalidTaskId.Malformed', `injection ${JSON.stringify(s)}`]);
  ROWS.push(['DescribeRefreshTasks', { ObjectType: s }, 'InvalidObjectType.ValueNotSupported', `injection ${JSON.stringify(s)}`]);
  ROWS.push(['DescribePreloadDetailById', { TaskId: s }, 'InvalidTaskId.Malformed', `injection ${JSON.stringify(s)}`]);
  ROWS.push(['RefreshObjectCacheByCacheTag', { CacheTag: 'a', DomainName: s }, 'InvalidDomain.NotFound', `injection ${JSON.stringify(s)}`]);
  ROWS.push(['RefreshObjectCaches', { ObjectPath: 'example.com/d/', ObjectType: 'Directory', VerifyUrl: s }, 'InvalidParameter', `VerifyUrl injection ${JSON.stringify(s)}`]);
}

function snapshot(): string {
  const db = server.store.raw;
  const count = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  const usage = db.prepare('SELECT bucket, used FROM usage_counters ORDER BY bucket').all();
  return JSON.stringify({ tasks: count('tasks'), items: count('items'), usage });
}

describe('bad input gets its documented error and stores nothing', () => {
  for (const [action, params, code, why] of ROWS) {
    const label = `${action} ${why ?? JSON.stringify(params).slice(0, 70)} → ${code}`;
    it(label, async () => {
      const before = snapshot();
      const version = action.includes('Vod') ? '2017-03-21' : undefined;
      for (const method of ['GET', 'POST'] as const) {
        const res = await rpc(server.url, action, params, { method, version });
        assert.equal(res.json.Code, code, res.text.slice(0, 300));
        assert.equal(res.status, ERRORS[code].status);
        assert.match(res.json.RequestId, /^[0-9A-F-]{36}$/);
      }
      assert.equal(snapshot(), before, 'nothing was stored');
    });
  }

  it('each code an action answered is listed in its action table entry', assertAnsweredErrorsListed);

  it('unicode paths that are valid are accepted and echoed intact', async () => {
    const path = 'http://example.com/路径/ファイル 名.txt?q=ü&e=🙂';
    const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: path });
    assert.equal(res.status, 200);
    const rows = await rpc(server.url, 'DescribeRefreshTasks', { ObjectPath: path });
    assert.equal(rows.json.TotalCount, 1);
    assert.equal(rows.json.Tasks.CDNTask[0].ObjectPath, path);
  });
});
