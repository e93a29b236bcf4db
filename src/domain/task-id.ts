/**
 * Task ids as the API spells them: 1 to 19 decimal digits. Both stores keep them as 64-bit
 * integers, so an id above 2^63 − 1 is well formed but names no task: the API answers it with no
 * rows (as any unknown id), and the stores never hand it to SQL, where it would overflow.
 */
export const TASK_ID = /^[0-9]{1,19}$/;

const MAX_TASK_ID = 2n ** 63n - 1n;

/** Well formed and within the stores' 64-bit range. */
export function isStorableTaskId(id: string): boolean {
  return TASK_ID.test(id) && BigInt(id) <= MAX_TASK_ID;
}
