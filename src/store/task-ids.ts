import { isStorableTaskId } from '../domain/task-id.js';

/** The ids that can name a task in a store (domain/task-id.ts); the rest are dropped before they reach SQL. */
export function validTaskIds(ids: string[]): string[] {
  return ids.filter(isStorableTaskId);
}
