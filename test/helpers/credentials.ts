import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CREDENTIAL_TTL_MS } from '../../src/store/credential-cache.js';

/**
 * A key or account changed by another process (a CLI command on the server's data dir) reaches
 * the server within CREDENTIAL_TTL_MS (store/credential-cache.ts): ask `probe` until `done`
 * holds, failing if that takes longer than the bound (plus slack for a loaded machine) from
 * `since`, the moment the change was made.
 */
export async function withinCredentialTtl<T>(probe: () => Promise<T>, done: (t: T) => boolean, since = performance.now()): Promise<T> {
  for (;;) {
    const t = await probe();
    if (done(t)) return t;
    assert.ok(performance.now() - since < CREDENTIAL_TTL_MS + 500, `not in force ${Math.round(performance.now() - since)} ms after the change`);
    await sleep(25);
  }
}
