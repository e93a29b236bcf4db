import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * What one caller may cost the server before and after authentication (issue: hardening):
 * malformed HTTP answered with a Code, keep-alive really 65 s, duplicate parameters refused,
 * the echoed string-to-sign cut, WaitForTasks held per key capped, duplicate paths one item,
 * DescribeRefreshTaskNodes paged, /metrics on its own listener, the data dir private.
 */
let server: TestServer;
before(async () => {
  server = await startTestServer({ waitForTasksPerKey: 3 });
  await server.addDomain('example.com');
});
after(() => server.close());

/** Raw bytes in, the whole answer (head and body) out. */
function exchange(port: number, text: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (c) => {
      got += c;
      // A keep-alive answer does not close: stop once a whole body is in.
      const [head, body = ''] = got.split('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(head);
      if (length && Buffer.byteLength(body) >= Number(length[1])) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = got.split('\r\n\r\n');
      let body = rest.join('\r\n\r\n');
      if (/transfer-encoding: chunked/i.test(head)) body = body.replace(/^[0-9a-f]+\r\n/i, '').replace(/\r\n0\r\n\r\n$/, '');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
  });
}

describe('every answer carries a Code, a RequestId and nosniff', () => {
  const malformed: [string, string, number][] = [
    ['a URL the router cannot decode', 'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['an unknown method', 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a bad Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
    ['Content-Length with chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', 400],
    ['a garbage request line', 'GARBAGE\r\n\r\n', 400],
    ['an unknown path', 'GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
    ['a request line over the header limit', `GET /?x=${'a'.repeat(130 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
  ];
  for (const [what, text, status] of malformed) {
    it(what, async () => {
      const res = await exchange(server.port, text);
      assert.equal(res.status, status, res.head);
      assert.match(res.head, /x-content-type-options: nosniff/i);
      const body = JSON.parse(res.body) as Record<string, string>;
      assert.match(body.Code, /^[A-Z]\w+(\.\w+)?$/, res.body);
      assert.match(body.RequestId, /^[0-9A-F-]{36}$/);
      assert.ok(!/FST_|statusCode|error"/.test(res.body), 'no framework code or shape');
    });
  }

  it('on success, on the console and on health checks too', async () => {
    const ok = await rpc(server.url, 'DescribeRefreshQuota', {});
    assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
    for (const path of ['/healthz', '/console/']) {
      const res = await fetch(server.url + path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });
});

describe('connections', () => {
  it('keep-alive is really 65 s on the listening server', async () => {
    const res = await exchange(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(res.head, /keep-alive: timeout=65/i);
  });
});

describe('parameters', () => {
  it('a parameter given twice is refused with InvalidParameter naming it, in the query or across query and body', async () => {
    const twice = await fetch(`${server.url}/?Action=DescribeRefreshQuota&Version=2018-05-10&Version=2018-05-10`);
    const body = (await twice.json()) as { Code: string; Message: string };
    assert.equal(twice.status, 400);
    assert.equal(body.Code, 'InvalidParameter');
    assert.match(body.Message, /"Version"/);
    const across = await fetch(`${server.url}/?Action=DescribeRefreshQuota`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DescribeRefreshQuota',
    });
    assert.equal(((await across.json()) as { Code: string }).Code, 'InvalidParameter');
  });

  it('a wrong signature echoes at most 2 KB of the string to sign', async () => {
    const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: Array.from({ length: 900 }, (_, i) => `example.com/${i}/${'p'.repeat(80)}`).join('\n') }, { method: 'POST', secret: 'wrong' });
    assert.equal(res.json.Code, 'SignatureDoesNotMatch');
    assert.ok(res.text.length < 3_000, `${res.text.length} bytes`);
    assert.match(res.json.Message, /server string to sign is:POST&%2F&.+… \(\d+ characters\)$/);
  });
});

describe('WaitForTasks held per AccessKey', () => {
  it('beyond the ceiling answers Throttling; a place frees when a call ends', async () => {
    const task = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/held' })).json.RefreshTaskId as string;
    // No worker runs: the task stays Pending and each call is held for its Timeout.
    const held = Array.from({ length: 3 }, () => rpc(server.url, 'WaitForTasks', { TaskId: task, Timeout: 3 }));
    await new Promise((r) => setTimeout(r, 300));
    const fourth = rpc(server.url, 'WaitForTasks', { TaskId: task, Timeout: 1 });
    // Four calls at once for a ceiling of three: exactly one is refused at once, the other three
    // are held to their Timeout. Normally the fourth is the one; on a loaded machine one of the
    // first three may reach the server after it, and then that one is refused instead.
    const answers = await Promise.all([...held, fourth]);
    const refused = answers.filter((r) => r.status !== 200);
    assert.equal(refused.length, 1, answers.map((r) => r.text).join('\n'));
    assert.equal(refused[0].status, 503);
    assert.equal(refused[0].json.Code, 'Throttling');
    assert.match(refused[0].json.Message, /At most 3 WaitForTasks/);
    for (const r of answers.filter((a) => a.status === 200)) assert.equal(r.json.Done, false);
    assert.equal((await rpc(server.url, 'WaitForTasks', { TaskId: task, Timeout: 0 })).status, 200, 'free again');
  });
});

describe('duplicate paths and DescribeRefreshTaskNodes', () => {
  it('the same URL 1,000 times is one item, charged once, and its nodes answer at once', async () => {
    await server.store.fleet.addNode({ name: 'edge-a', driver: 'simulated', address: 'sim', group: 'default', area: 'domestic', enabled: true, options: {}, createdAt: 0 });
    const before = (await rpc(server.url, 'DescribeRefreshQuota', {})).json.UrlRemain;
    const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: Array(1000).fill('http://example.com/same.js').join('\n') }, { method: 'POST' });
    assert.equal(res.status, 200);
    const task = res.json.RefreshTaskId as string;
    assert.equal(Number(before) - Number((await rpc(server.url, 'DescribeRefreshQuota', {})).json.UrlRemain), 1);
    assert.equal((await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: task })).json.TotalCount, 1);
    const started = performance.now();
    const nodes = await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: task });
    assert.ok(performance.now() - started < 1_000);
    assert.equal(nodes.json.TotalCount, 1);
    assert.equal(nodes.json.Items.length, 1);
  });

  it('pages by item: PageSize items, each with all its nodes', async () => {
    const paths = Array.from({ length: 25 }, (_, i) => `http://example.com/p${i}`);
    const task = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: paths.join('\n') })).json.RefreshTaskId as string;
    const first = (await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: task, PageSize: 10 })).json;
    const last = (await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: task, PageSize: 10, PageNumber: 3 })).json;
    assert.deepEqual([first.TotalCount, first.Items.length, first.PageNumber, last.Items.length], [25, 10, 1, 5]);
    assert.deepEqual([...first.Items, ...last.Items].map((i: { ObjectPath: string }) => i.ObjectPath), [...paths.slice(0, 10), ...paths.slice(20)]);
    assert.equal((await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: task, PageSize: 101 })).json.Code, 'InvalidParameter');
  });
});

describe('/metrics on its own listener', () => {
  it('is served there and not on the API port', async () => {
    const s = await startTestServer({ metricsListen: { host: '127.0.0.1', port: 0 } });
    try {
      assert.equal((await fetch(`${s.url}/metrics`)).status, 404);
      const metricsUrl = s.metricsUrl!;
      const res = await fetch(`${metricsUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /refreshd_/);
    } finally {
      await s.close();
    }
  });
});

describe('the embedded store is private to its user', () => {
  it('a new data dir is 0700 and its database 0600', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'refreshd-perm-')), 'data');
    const store = await openStore(loadConfig({ dataDir: dir }), { create: true });
    try {
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      for (const f of ['refreshd.db', 'refreshd.db-wal', 'refreshd.db-shm']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an existing one that others can read is tightened at start, with a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refreshd-perm-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'refreshd.db'), '', { mode: 0o644 });
    chmodSync(join(dir, 'refreshd.db'), 0o644);
    const lines: string[] = [];
    const logger = (await import('../../src/app.js')).makeLogger('warn', { write: (l: string) => lines.push(l) });
    const store = await openStore(loadConfig({ dataDir: dir }), { create: true, logger });
    try {
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, 'refreshd.db')).mode & 0o777, 0o600);
      assert.equal(lines.length, 2, lines.join(''));
      assert.match(lines[0], /access is now limited to its owner/);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
