import type { Guards } from '../port.js';
import { RateWindows } from '../rate-window.js';
import { NonceLog } from './nonce-log.js';

/**
 * The request guards on SQLite: nonces checked in memory and logged to the file (nonce-log.ts),
 * rate windows in process memory — right for the one process that serves the API.
 */
export class SqliteGuards implements Guards {
  readonly nonces: NonceLog;
  private readonly rates = new RateWindows();

  constructor(file: string) {
    this.nonces = new NonceLog(file);
  }

  async useNonce(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    return this.nonces.use(accessKeyId, nonce, expiresAt);
  }

  async takeRate(key: string, perSecond: number, now: number): Promise<number> {
    return this.rates.take(key, perSecond, now);
  }
}
