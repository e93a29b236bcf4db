import { answerFromToken, type ReplayedSubmit, type StoredToken } from '../client-tokens.js';
import type { ClientTokenClaim, SubmitOutcome } from '../port.js';
import type { Db } from './rows.js';

/** Advisory lock class (two-int form: class, hash of account and token) serializing submits that carry one token. */
const TOKEN_LOCK_CLASS = 0x7266_7302;

/**
 * ClientTokens on PostgreSQL (migration 7), inside the submit's transaction (tasks.ts). Two API
 * processes may take the same token at the same moment: the first to lock it writes its tasks
 * and the token and commits; the other waits on the lock, then — reading in a new statement,
 * which sees that commit — answers with the first's tasks. A submit that fails rolls its
 * token back with it, so the token is free for the retry.
 */
export async function answerOfToken(tx: Db, accountId: number, claim: ClientTokenClaim, now: number): Promise<Exclude<SubmitOutcome, { ok: true }> | ReplayedSubmit | undefined> {
  await tx`SELECT pg_advisory_xact_lock(${TOKEN_LOCK_CLASS}::int, hashtext(${`${accountId}:${claim.token}`}))`;
  const [stored] = await tx<StoredToken[]>`
    SELECT fingerprint, task_ids AS "taskIds" FROM client_tokens WHERE account_id = ${accountId} AND token = ${claim.token} AND expires_at > ${now}`;
  return stored && answerFromToken(stored, claim);
}

/** Record the token with the tasks just written; an expired record of the same token is replaced. */
export async function recordToken(tx: Db, accountId: number, claim: ClientTokenClaim, taskIds: string[], now: number): Promise<void> {
  await tx`
    INSERT INTO client_tokens (account_id, token, fingerprint, task_ids, created_at, expires_at)
    VALUES (${accountId}, ${claim.token}, ${claim.fingerprint}, ${taskIds.join(',')}, ${now}, ${claim.expiresAt})
    ON CONFLICT (account_id, token) DO UPDATE SET fingerprint = excluded.fingerprint, task_ids = excluded.task_ids,
      created_at = excluded.created_at, expires_at = excluded.expires_at`;
}
