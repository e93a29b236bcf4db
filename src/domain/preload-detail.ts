import { formatUtc } from '../protocol/encoding.js';
import type { ItemRow, NodeAttemptRow } from './records.js';
import { deriveStatus, formatProcess } from './progress.js';

/** One task as DescribePreloadDetailById lists it (the CDN 2018-05-10 client model's UrlDetails). */
export interface PreloadDetailWire {
  TaskId: string;
  Domain: string;
  CreationTime: string;
  EndTime: string;
  Process: string;
  RetCode: string;
  Status: 'Complete' | 'Refreshing' | 'Failed';
  Urls: { Url: string; Success: string; Description: string }[];
}

/** What Alibaba's model prints for a URL warmed on every node. */
export const PRELOADED = 'Successfully preloaded';

/**
 * A preload task's detail from its items and their per-node attempts: per URL the share of nodes
 * that warmed it and the documented failure description; for the task the share of all node
 * confirmations, and when the last node finished (applied or failed) once the task is over.
 */
export function preloadDetail(items: ItemRow[], attempts: NodeAttemptRow[]): PreloadDetailWire {
  const statuses = items.map((i) => deriveStatus(i.counts));
  const status = statuses.includes('Failed') ? 'Failed' : statuses.every((s) => s === 'Complete') ? 'Complete' : 'Refreshing';
  const dispatched = items.filter((i) => i.counts.total !== null);
  const total = dispatched.length < items.length ? null : dispatched.reduce((n, i) => n + (i.counts.total ?? 0), 0);
  const applied = items.reduce((n, i) => n + i.counts.applied, 0);
  const failed = items.reduce((n, i) => n + i.counts.failed, 0);
  const lastFinished = Math.max(-Infinity, ...attempts.map((a) => a.finishedAt ?? -Infinity));
  return {
    TaskId: items[0].taskId,
    Domain: items[0].domain,
    CreationTime: formatUtc(items[0].createdAt),
    EndTime: status !== 'Refreshing' && Number.isFinite(lastFinished) ? formatUtc(lastFinished) : '',
    Process: formatProcess({ total, applied, failed }),
    RetCode: status === 'Complete' ? '0' : status === 'Failed' ? '1' : '',
    Status: status,
    Urls: items.map((i, n) => ({
      Url: i.objectPath,
      Success: formatProcess(i.counts),
      Description: statuses[n] === 'Complete' ? PRELOADED : statuses[n] === 'Failed' ? i.description : '',
    })),
  };
}
