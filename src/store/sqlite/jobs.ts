import type { SubmitType } from '../../domain/object-path.js';
import type { AttemptPhase, CacheNode, ClaimedAttempt } from '../port.js';
import { splitVerifyUrls } from '../verify-urls.js';

/**
 * The rows the SQLite queue hands to workers (queue.ts dispatch and claim, and submit-dispatch.ts
 * at submit): what a driver needs of an item, its task's options and its domain's origin.
 */
export const JOB_COLUMNS = 'i.id, i.task_id, i.object_type, i.object_path, i.domain, t.force, t.with_header, t.verify_urls, d.origin, t.preload_after';
export const JOB_FROM = 'items i JOIN tasks t ON t.id = i.task_id LEFT JOIN domains d ON d.name = i.domain';

/** An item as JOB_COLUMNS reads it. */
export interface JobRow {
  id: number;
  task_id: number;
  object_type: SubmitType;
  object_path: string;
  domain: string;
  force: number;
  with_header: string | null;
  verify_urls: string | null;
  origin: string | null;
  /** 1: purge-then-warm, whose new attempts start in the purge phase. */
  preload_after: number;
}

/** The phase a new attempt of this item starts in (null: single-phase). */
export function firstPhase(j: Pick<JobRow, 'preload_after'>): AttemptPhase | null {
  return j.preload_after === 1 ? 'purge' : null;
}

/** `phase`: the attempt row's (claims) or its first (dispatch); null or absent: single-phase. */
export function toClaimed(j: JobRow, node: CacheNode, lease: string, attempts: number, phase?: AttemptPhase | null): ClaimedAttempt {
  const c: ClaimedAttempt = {
    itemId: j.id, nodeId: node.id, lease, attempts, taskId: String(j.task_id), objectType: j.object_type, objectPath: j.object_path,
    domain: j.domain, force: j.force === 1, withHeader: j.with_header ?? null, verifyUrls: splitVerifyUrls(j.verify_urls), origin: j.origin ?? null, node,
  };
  if (phase) c.phase = phase;
  return c;
}
