import type { ClientTokenClaim, SubmitOutcome } from './port.js';

/** A ClientToken as both adapters keep it: the parameters' fingerprint and the tasks the first call created. */
export interface StoredToken {
  fingerprint: string;
  /** Comma-joined, in the order the first call answered them. */
  taskIds: string;
}

/**
 * What a submit carrying `claim` answers when the account's token is already recorded (and not
 * expired): the first call's tasks when the parameters are the same, else a mismatch. Nothing
 * is written either way; a replay has nothing leased and nothing waiting.
 */
export function answerFromToken(stored: StoredToken, claim: ClientTokenClaim): Exclude<SubmitOutcome, { ok: true }> | ReplayedSubmit {
  if (stored.fingerprint !== claim.fingerprint) return { ok: false, tokenMismatch: true };
  return { ok: true, taskIds: stored.taskIds.split(','), leased: [], waiting: 0, replayed: true };
}

export type ReplayedSubmit = Omit<Extract<SubmitOutcome, { ok: true }>, 'durable'>;
