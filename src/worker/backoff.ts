/**
 * The one retry schedule of node attempts and webhook deliveries: after failed attempt number
 * `attempt` (1-based), wait `baseMs · 2^(attempt−1)`, capped at `maxMs`, times a ±20 % jitter so
 * that work which failed together (a node down, a receiver down) does not all come back at once.
 */
export function backoff(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.round(Math.min(maxMs, baseMs * 2 ** (attempt - 1)) * (0.8 + 0.4 * random()));
}
