import type Database from 'better-sqlite3';
import { answerFromToken, type ReplayedSubmit, type StoredToken } from '../client-tokens.js';
import type { ClientTokenClaim, SubmitOutcome } from '../port.js';

/**
 * ClientTokens on SQLite (migration 10), read and written inside the submit's own transaction
 * (tasks.ts): one process writes the file, and the transaction is IMMEDIATE, so two submits with
 * one token run one after the other and the second finds the first's record.
 */
export class SqliteClientTokens {
  private readonly find: Database.Statement;
  private readonly put: Database.Statement;

  constructor(db: Database.Database) {
    this.find = db.prepare('SELECT fingerprint, task_ids AS taskIds FROM client_tokens WHERE account_id = ? AND token = ? AND expires_at > ?');
    // An expired record of the same token is replaced: the token is free again after 24 h.
    this.put = db.prepare(
      `INSERT INTO client_tokens (account_id, token, fingerprint, task_ids, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, token) DO UPDATE SET fingerprint = excluded.fingerprint, task_ids = excluded.task_ids,
         created_at = excluded.created_at, expires_at = excluded.expires_at`,
    );
  }

  /** The answer of a token already used (replay or mismatch); undefined when it is new or expired. */
  answer(accountId: number, claim: ClientTokenClaim, now: number): Exclude<SubmitOutcome, { ok: true }> | ReplayedSubmit | undefined {
    const stored = this.find.get(accountId, claim.token, now) as StoredToken | undefined;
    return stored && answerFromToken(stored, claim);
  }

  record(accountId: number, claim: ClientTokenClaim, taskIds: string[], now: number): void {
    this.put.run(accountId, claim.token, claim.fingerprint, taskIds.join(','), now, claim.expiresAt);
  }
}
