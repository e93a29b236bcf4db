import type { Outcome } from '../edges/driver.js';
import type { AttemptResult, ClaimedAttempt } from '../domain/records.js';
import { backoff } from './backoff.js';

/**
 * What an outcome means for the attempt: applied, retried later on the backoff schedule
 * (backoff.ts), or failed for good — retryable failures become permanent after `maxAttempts`, with
 * the last error kept so an unreachable node is never hidden.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
}

const MAX_DELAY_MS = 60_000;

export function decide(c: ClaimedAttempt, outcome: Outcome, policy: RetryPolicy, now: number, random = Math.random): AttemptResult {
  const base = { itemId: c.itemId, nodeId: c.nodeId, lease: c.lease };
  if (outcome.kind === 'ok') return { ...base, state: 'applied', verifiedBy: outcome.verifiedBy };
  if (outcome.kind === 'permanent') return { ...base, state: 'failed', error: outcome.error, description: outcome.description, verifiedBy: outcome.verifiedBy };
  const attempt = c.attempts + 1;
  if (attempt >= policy.maxAttempts) {
    return { ...base, state: 'failed', error: `gave up after ${attempt} attempts: ${outcome.error}`, description: 'Internal Error', verifiedBy: outcome.verifiedBy };
  }
  return { ...base, state: 'retry', error: outcome.error, nextRunAt: now + backoff(attempt, policy.baseMs, MAX_DELAY_MS, random) };
}
