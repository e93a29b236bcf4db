/**
 * Memory and sweep pause of the in-process signature-nonce cache at the target request rate:
 * every V1/V3 call stores its nonce until timestamp + 15 min, so 3,000 calls/s keep 2.7 M live
 * entries; expiry drops whole per-minute maps (it used to walk every entry on the event loop).
 *
 *   node --expose-gc --import tsx bench/nonce-cache.ts
 */
import { randomUUID } from 'node:crypto';
import { NonceCache } from '../src/store/sqlite/nonce-cache.js';
const c = new NonceCache();
const now = Date.now();
global.gc?.();
const m0 = process.memoryUsage().heapUsed;
const N = 2_700_000; // 3,000 req/s x 900 s (the 15-minute skew window)
const t0 = performance.now();
for (let i = 0; i < N; i++) c.use('LTAI5tAbCdEfGhIjKlMnOpQr', randomUUID(), now + 900_000 - Math.floor((i / N) * 900_000), now);
const t1 = performance.now();
global.gc?.();
const m1 = process.memoryUsage().heapUsed;
console.log(`${N} entries: ${((m1 - m0) / 2 ** 20).toFixed(0)} MiB heap, insert ${((t1 - t0) / N * 1000).toFixed(2)} us/entry`);
for (const frac of [0, 1 / 15]) {
  const t = performance.now();
  c.sweep(now + frac * 900_000);
  console.log(`sweep expiring ${(frac * 100).toFixed(1)}%: ${(performance.now() - t).toFixed(0)} ms (event loop blocked)`);
}
