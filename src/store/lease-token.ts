import { randomBytes } from 'node:crypto';

/**
 * A lease token: the claimer's name and 48 random bits, new for every claim, so a worker that
 * re-claims an attempt whose lease ran out while its first try still ran can only have the later
 * outcome counted (the chance of drawing the same token again is 2^-48). Tokens are stored in
 * every leased attempt row and compared on every outcome: short ones keep those rows small (a
 * UUID after a host name made a 100-URL task's submit and outcomes ~0.4 ms dearer on SQLite,
 * bench/store-task.ts).
 */
export function leaseToken(owner: string): string {
  return `${owner}/${randomBytes(6).toString('base64url')}`;
}
