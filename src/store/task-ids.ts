/**
 * Task ids as the API spells them: up to 18 decimal digits (a 64-bit integer in both stores).
 * Anything else cannot name a task, so the stores drop it before it reaches SQL.
 */
export function validTaskIds(ids: string[]): string[] {
  return ids.filter((id) => /^\d{1,18}$/.test(id));
}
