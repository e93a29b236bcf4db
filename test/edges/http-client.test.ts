import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wirePath } from '../../src/edges/http-client.js';

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
