import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EdgeHttpClient, wirePath } from '../../src/edges/http-client.js';

/** What undici's `request(origin + path)` puts on the wire: the parsed URL's pathname and search. */
function viaUrl(origin: string, path: string): string {
  const url = new URL(origin + path);
  return url.search ? url.pathname + url.search : url.pathname;
}

describe('EdgeHttpClient request paths', () => {
  const origin = 'http://127.0.0.1:6081';

  it('sends plain paths as they are, without parsing a URL', () => {
    for (const p of ['/', '/a/b.js', '/x?v=1&w=2', "/a(1)!$&*+,;=:@~_-.css", '/%7Euser/%20x', '/a/.b/..c/'] as const) {
      assert.equal(wirePath(origin, p), p);
    }
  });

  it('normalises the rest exactly as the URL parser does', () => {
    const cases: [string, string][] = [
      ['/a/./b', '/a/b'], ['/a/../b', '/b'], ['/a/%2E%2e/b', '/b'], ['/x?', '/x'], ['/x#frag', '/x'],
      ['/a b', '/a%20b'], ['/é', '/%C3%A9'], ['/a\\b', '/a/b'], ["/q?it's", '/q?it%27s'], ['/{x}', '/%7Bx%7D'],
    ];
    for (const [p, want] of cases) assert.equal(wirePath(origin, p), want, p);
  });

  it('agrees with the URL parser on random paths', () => {
    const chars = "/abcAZ09-._~!$&'()*+,;=:@%?#\"<>`{}^|\\[] \té中2eE.";
    let seed = 42;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let i = 0; i < 20_000; i++) {
      let p = rand() < 0.3 ? ['/.', '/..', '/%2e', '/%2E.', '/a'][Math.floor(rand() * 5)] : '';
      p += '/';
      for (let k = Math.floor(rand() * 12); k >= 0; k--) p += chars[Math.floor(rand() * chars.length)];
      let want: string;
      try {
        want = viaUrl(origin, p);
      } catch {
        continue; // the URL parser rejects it; so does wirePath (both throw)
      }
      assert.equal(wirePath(origin, p), want, JSON.stringify(p));
    }
  });
});

describe('EdgeHttpClient requests', () => {
  let server: Server;
  let address = '';
  const sockets = new Set<Socket>();
  let seen = 0;
  before(async () => {
    server = createServer((req, res) => {
      seen++;
      if (req.url === '/never') return; // holds the request open
      if (req.url === '/trickle') {
        // Headers, then a byte every 100 ms for ever: no idle timeout ever fires.
        res.writeHead(200);
        const t = setInterval(() => res.write('.'), 100);
        res.on('close', () => clearInterval(t));
        return;
      }
      const body = req.url === '/big' ? 'é'.repeat(5000) : `${req.method} ${req.url} ${req.headers.host}`;
      res.writeHead(200, { 'X-Cache': 'HIT', 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    });
    server.on('connection', (s: Socket) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('answers status, lower-cased headers and the body cut at 4 KiB of characters', async () => {
    const http = new EdgeHttpClient({ connectionsPerNode: 2, timeoutMs: 2_000 });
    const res = await http.send(address, { method: 'PURGE', path: '/a/b.js', headers: { host: 'x.example.com' } });
    assert.deepEqual([res.status, res.headers['x-cache'], res.text], [200, 'HIT', 'PURGE /a/b.js x.example.com']);
    const big = await http.send(address, { method: 'GET', path: '/big' });
    assert.equal(big.text, 'é'.repeat(4096), 'whole characters, never half of one');
    await http.close();
  });

  it('pipelines purges: 8 in flight per node on one connection, every answer to its own request', async () => {
    const http = new EdgeHttpClient({ connectionsPerNode: 8, timeoutMs: 2_000 });
    sockets.clear();
    seen = 0;
    const paths = Array.from({ length: 40 }, (_, i) => `/p/${i}`);
    const answers = await Promise.all(paths.map((path) => http.send(address, { method: 'PURGE', path, headers: { host: 'p.example.com' }, pipeline: true })));
    assert.deepEqual(answers.map((a) => a.text), paths.map((p) => `PURGE ${p} p.example.com`));
    assert.equal(seen, 40);
    assert.equal(sockets.size, 1, 'one connection carries them all');
    await http.close();
  });

  it('an aborted signal cuts a request short, before and while it runs', async () => {
    const http = new EdgeHttpClient({ connectionsPerNode: 2, timeoutMs: 10_000 });
    const stop = new AbortController();
    const started = Date.now();
    const hanging = http.send(address, { method: 'PURGE', path: '/never', signal: stop.signal, pipeline: true });
    setTimeout(() => stop.abort(new Error('worker stopping')), 50);
    await assert.rejects(hanging, /worker stopping/);
    assert.ok(Date.now() - started < 2_000, 'not after the timeout');
    await assert.rejects(http.send(address, { method: 'PURGE', path: '/x', signal: stop.signal }), /worker stopping/);
    await http.close();
  });

  it('refuses headers undici would refuse, and the pool to that origin keeps working', async () => {
    // With two connections per origin, two requests undici refused as it took them left its pool
    // unable to send anything to that origin again: every later preload waited for ever.
    const http = new EdgeHttpClient({ connectionsPerNode: 2, timeoutMs: 2_000 });
    for (const headers of <Record<string, string | string[]>[]>[{ 'Transfer-Encoding': ['chunked'] }, { Host: ['x'] }, { 'Content-Length': ['5'] }, { Connection: 'close' }, { Upgrade: 'h2c' }, { Expect: '100-continue' }, { 'Keep-Alive': '1' }, { TE: 'trailers' }, { 'Proxy-Authorization': 'x' }, { 'X-Ok': 'a\nb' }]) {
      await assert.rejects(http.send(address, { method: 'GET', path: '/a', headers }), (err: { code?: string }) => err.code === 'UND_ERR_INVALID_ARG', JSON.stringify(headers));
    }
    const started = Date.now();
    const res = await http.send(address, { method: 'GET', path: '/after', headers: { host: 'w.example.com', 'Accept-Encoding': ['gzip'] } });
    assert.equal(res.text, 'GET /after w.example.com');
    assert.ok(Date.now() - started < 1_000, 'answered at once, not after a timeout');
    await http.close();
  });

  it('gives the whole exchange a deadline, even when bytes keep arriving', async () => {
    const http = new EdgeHttpClient({ connectionsPerNode: 2, timeoutMs: 400 });
    const started = Date.now();
    await assert.rejects(http.send(address, { method: 'GET', path: '/trickle' }), (err: { code?: string }) => err.code === 'UND_ERR_DEADLINE_TIMEOUT');
    const took = Date.now() - started;
    assert.ok(took >= 350 && took < 2_000, `cut at the deadline (${took} ms)`);
    assert.equal((await http.send(address, { method: 'GET', path: '/b' })).status, 200, 'the pool still works');
    await http.close();
  });

  it('one timer serves the deadlines of requests started at different times', async () => {
    const http = new EdgeHttpClient({ connectionsPerNode: 4, timeoutMs: 300 });
    const t0 = Date.now();
    const cut = (path: string) => http.send(address, { method: 'GET', path }).then(() => -1, (err: { code?: string }) => (err.code === 'UND_ERR_DEADLINE_TIMEOUT' ? Date.now() - t0 : -2));
    const first = cut('/trickle');
    await new Promise((r) => setTimeout(r, 150));
    const quick = http.send(address, { method: 'GET', path: '/q' });
    const second = cut('/trickle');
    assert.equal((await quick).status, 200, 'a request that ends early disturbs no other deadline');
    const [a, b] = await Promise.all([first, second]);
    assert.ok(a >= 280 && a < 1_500, `the first cut at its deadline (${a} ms)`);
    assert.ok(b >= 430 && b < 1_650 && b - a >= 100, `the second at its own, later one (${b} ms)`);
    await http.close();
  });

  it('no deadline timer outlives the requests: a process that sent one exits at once', () => {
    // A minute-long time limit on a request answered at once: a timer left armed would hold the process for it.
    const code = `
      import { EdgeHttpClient } from ${JSON.stringify(new URL('../../src/edges/http-client.ts', import.meta.url).href)};
      const http = new EdgeHttpClient({ connectionsPerNode: 2, timeoutMs: 60_000 });
      const res = await http.send(${JSON.stringify(address)}, { method: 'PURGE', path: '/x', pipeline: true });
      await http.send(${JSON.stringify(address)}, { method: 'GET', path: '/y' });
      await http.close();
      console.log(res.status);`;
    const t0 = Date.now();
    return new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', () => {
        clearTimeout(kill);
        try {
          assert.equal(out.trim(), '200');
          assert.ok(Date.now() - t0 < 20_000, `exited after ${Date.now() - t0} ms`);
          resolve();
        } catch (err) {
          reject(err);
        }
      });
    });
  });

  it('one abort signal cuts short every request listening on it, and only those', async () => {
    const http = new EdgeHttpClient({ connectionsPerNode: 8, timeoutMs: 10_000 });
    const stop = new AbortController();
    const done = await http.send(address, { method: 'PURGE', path: '/fine', signal: stop.signal, pipeline: true }).catch((e: Error) => e);
    const hanging = Array.from({ length: 5 }, (_, i) => http.send(address, { method: 'PURGE', path: '/never', signal: stop.signal, pipeline: i % 2 === 0 }));
    const other = http.send(address, { method: 'GET', path: '/trickle', signal: new AbortController().signal, timeoutMs: 600 });
    stop.abort(new Error('worker stopping'));
    await Promise.all(hanging.map((h) => assert.rejects(h, /worker stopping/)));
    assert.equal((done as { status: number }).status, 200, 'a request that had ended is not touched');
    await assert.rejects(other, (err: { code?: string }) => err.code === 'UND_ERR_DEADLINE_TIMEOUT', 'another signal\'s request runs on to its own deadline');
    await http.close();
  });
});
