import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CREDENTIAL_TTL_MS } from '../../src/store/credential-cache.js';

/**
 * A key or account changed by another process (a CLI command on the server's data dir) reaches
 * the server within CREDENTIAL_TTL_MS (store/credential-cache.ts): ask `probe` until `done`
 * holds, failing if a probe SENT at least the bound after `since` (the moment the change was
 * made) still saw the old state. The server runs in this process, on the same clock: a probe sent
 * after the bound is handled after it, whatever a loaded machine does to the answer's way back,
 * so no slack is needed.
 */
export async function withinCredentialTtl<T>(probe: () => Promise<T>, done: (t: T) => boolean, since = performance.now()): Promise<T> {
  for (;;) {
    const sent = performance.now();
    const t = await probe();
    if (done(t)) return t;
    assert.ok(sent - since < CREDENTIAL_TTL_MS, `not in force for a call sent ${Math.round(sent - since)} ms after the change`);
    await sleep(25);
  }
}
