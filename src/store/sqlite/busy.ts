import { StoreBusy } from '../errors.js';

/** better-sqlite3's codes for "another connection holds the lock" (after busy_timeout). */
const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

/**
 * The role object with every method's SQLITE_BUSY/SQLITE_LOCKED failure turned into StoreBusy,
 * so no caller above the adapter knows SQLite's codes. Each method is wrapped once, here.
 */
export function busyAware<T extends object>(role: T): T {
  const wrapped: Record<string | symbol, unknown> = {};
  for (let proto = Object.getPrototypeOf(role); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || name in wrapped) continue;
      const method = (role as Record<string, unknown>)[name];
      if (typeof method !== 'function') continue;
      wrapped[name] = async (...args: unknown[]) => {
        try {
          return await (method as (...a: unknown[]) => unknown).apply(role, args);
        } catch (err) {
          throw BUSY.has((err as { code?: string }).code ?? '') ? new StoreBusy({ cause: err }) : err;
        }
      };
    }
  }
  return wrapped as T;
}
