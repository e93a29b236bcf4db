import { createHash } from 'node:crypto';
import { invalid } from '../spec/errors.js';
import type { ClientTokenClaim } from './records.js';

/**
 * Idempotent submits (ClientToken, a refreshd extension on every submit action). A client that
 * retries after a timeout sends the same token again: within 24 hours the same account gets the
 * first call's task ids back, with no new task and no quota charged; the same token with other
 * parameters is refused (IdempotentParameterMismatch). The store checks the token and records
 * it with the new tasks in the submit's one transaction (SubmitBatch.clientToken), so there are
 * never tasks without their token nor a token without its tasks, in any process.
 */

/** How long a token answers with its tasks. */
export const CLIENT_TOKEN_TTL_MS = 24 * 3_600_000;

/** 1–64 printable ASCII characters, space to `~` (the action tables bound the length). */
const TOKEN = /^[\x20-\x7e]{1,64}$/;

/**
 * The claim a submit hands the store, or none without a token. `parameters` is what the call
 * asks for after reading (defaults filled in, paths split into lines), so a retry that differs
 * only in spelling — `\r\n` for `\n`, `Force=false` for no Force — is still the same call.
 */
export function clientTokenClaim(token: string | undefined, parameters: Record<string, unknown>, now: number): ClientTokenClaim | undefined {
  if (token === undefined) return undefined;
  if (!TOKEN.test(token)) throw invalid('ClientToken');
  return { token, fingerprint: fingerprint(parameters), expiresAt: now + CLIENT_TOKEN_TTL_MS };
}

/** SHA-256 of the parameters as JSON with sorted keys: the same call gives the same text. */
function fingerprint(parameters: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.entries(parameters).sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}
