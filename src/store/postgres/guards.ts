import type { Guards } from '../port.js';
import type { Sql } from './rows.js';

/**
 * The request guards on PostgreSQL: nonce and rate-window tables shared by every API process,
 * each check one statement that is exact under concurrency.
 */
export class PgGuards implements Guards {
  constructor(private readonly sql: Sql) {}

  /**
   * A new nonce inserts; a used one whose expiry has passed is taken over (the update returns a
   * row); a live one conflicts and returns nothing.
   */
  async useNonce(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const rows = await this.sql`
      INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (${accessKeyId}, ${nonce}, ${expiresAt})
      ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at
       WHERE nonces.expires_at < ${Date.now()}::bigint
      RETURNING 1`;
    return rows.length > 0;
  }

  /**
   * Fixed one-second windows as (key, second) counter rows. The upsert increments only while
   * under the limit and row-locks while it does, so N processes together allow exactly
   * `perSecond` calls per key per second; no row back means refused.
   */
  async takeRate(key: string, perSecond: number, now: number): Promise<number> {
    const second = Math.floor(now / 1000);
    const rows = await this.sql`
      INSERT INTO rate_windows (key, second, count) VALUES (${key}, ${second}, 1)
      ON CONFLICT (key, second) DO UPDATE SET count = rate_windows.count + 1
       WHERE rate_windows.count < ${perSecond}::int
      RETURNING count`;
    return rows.length > 0 ? 0 : (second + 1) * 1000 - now;
  }
}
