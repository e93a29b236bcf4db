import { parseUtcTimestamp } from '../protocol/encoding.js';
import { formatUtc } from '../protocol/encoding.js';
import { ApiError } from '../spec/errors.js';
import type { Product } from '../spec/types.js';
import type { ItemQuery, ItemRow } from './records.js';
import type { SubmitType } from './object-path.js';
import { deriveStatus, formatProcess, type ItemStatus } from './progress.js';
import { DAY_MS } from './quota.js';
import { TASK_ID } from './task-id.js';

export interface DescribeFilter {
  accountId: number;
  product: Product;
  taskId?: string;
  objectPath?: string;
  objectType?: string;
  domainName?: string;
  status?: string;
  /** The status rows no node has confirmed yet show and are filtered by (TaskListShape.unconfirmedAs). */
  unconfirmedAs?: 'Refreshing';
  startTime?: string;
  endTime?: string;
  pageNumber: number;
  pageSize: number;
}

/** One row as Describe* actions put it on the wire. */
export interface TaskRowWire {
  CreationTime: string;
  Description: string;
  ObjectPath: string;
  ObjectType: string;
  Process: string;
  Status: ItemStatus;
  TaskId: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_DOMAINS = 500;

/** What describing tasks needs of the store (the domain's port; the store's tasks role fits it). */
export interface TaskReads {
  tasks: {
    queryItems(q: ItemQuery): Promise<{ total: number; rows: ItemRow[] }>;
    itemsOfTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<ItemRow[]>;
    countOpenTasks(accountId: number, product: Product, taskIds: string[], from: number): Promise<number>;
  };
}

/**
 * DescribeRefreshTasks / DescribeVodRefreshTasks: filter rules of seeds 002 and 004. The rules
 * over several parameters (ObjectType with DomainName or Status; StartTime with EndTime) are
 * declared in the action table and checked before this runs.
 */
export async function describeTasks(store: TaskReads, f: DescribeFilter, windowDays: number, now: number) {
  if (f.taskId !== undefined && !TASK_ID.test(f.taskId)) throw new ApiError('InvalidTaskId.Malformed');
  if (f.objectPath !== undefined && CONTROL.test(f.objectPath)) throw new ApiError('InvalidObjectPath.Malformed');
  let domains: string[] | undefined;
  if (f.domainName !== undefined) {
    domains = [...new Set(f.domainName.split(',').map((d) => d.trim().toLowerCase()).filter((d) => d !== ''))];
    if (domains.length > MAX_DOMAINS) throw new ApiError('DomainNameOverLimit');
  }
  const { from, to } = timeWindow(f.startTime, f.endTime, windowDays, now);
  const q: ItemQuery = {
    accountId: f.accountId, product: f.product, from, to,
    taskId: f.taskId, objectPath: f.objectPath, objectType: f.objectType as ItemQuery['objectType'],
    status: statusFilter(f.status as ItemStatus | undefined, f.unconfirmedAs), domains,
    offset: (f.pageNumber - 1) * f.pageSize, limit: f.pageSize,
  };
  const { total, rows } = await store.tasks.queryItems(q);
  return { total, rows: rows.map((r) => toWire(r, f.unconfirmedAs)) };
}

/** Where unconfirmed rows read Refreshing, the Refreshing filter finds them too. */
function statusFilter(status: ItemStatus | undefined, unconfirmedAs: 'Refreshing' | undefined): ItemStatus | ItemStatus[] | undefined {
  return status === 'Refreshing' && unconfirmedAs ? ['Pending', 'Refreshing'] : status;
}

/**
 * StartTime/EndTime: both or neither; EndTime after StartTime; nothing older than the window.
 * A StartTime in the future is not supported; an EndTime in the future is clamped to now.
 */
function timeWindow(start: string | undefined, end: string | undefined, windowDays: number, now: number) {
  const windowStart = now - windowDays * DAY_MS;
  // Both or neither (the table's `together` rule).
  if (start === undefined || end === undefined) return { from: windowStart, to: now };
  const from = parseUtcTimestamp(start, true);
  if (from === undefined) throw new ApiError('InvalidStartTime.Malformed');
  const to = parseUtcTimestamp(end, true);
  if (to === undefined) throw new ApiError('InvalidEndTime.Malformed');
  if (to < from) throw new ApiError('InvalidEndTime.Mismatch');
  if (to === from) throw new ApiError('InvalidEndTime.ValueNotSupported', { detail: 'EndTime must be later than StartTime.' });
  if (from > now) throw new ApiError('InvalidStartTime.ValueNotSupported', { detail: 'StartTime is in the future.' });
  // One minute of grace, so "exactly 3 days ago" from a client with a slightly fast clock passes.
  if (from < windowStart - 60_000) throw new ApiError('InvalidTime');
  return { from: Math.max(from, windowStart), to: Math.min(to, now) };
}

const TASK_IDS_MAX = 10;

/** A TaskId list: up to 10 comma-separated ids, each well formed; duplicates count once. */
export function parseTaskIds(taskIdList: string): string[] {
  const ids = taskIdList.split(',').map((s) => s.trim());
  if (ids.some((id) => !TASK_ID.test(id))) throw new ApiError('InvalidTaskId.Malformed');
  const unique = [...new Set(ids)];
  if (unique.length > TASK_IDS_MAX) throw new ApiError('InvalidTaskId.Malformed', { detail: `At most ${TASK_IDS_MAX} task IDs per call.` });
  return unique;
}

/** DescribeRefreshTaskById: up to 10 comma-separated ids, rows of the last 3 days. */
export async function describeTaskIds(store: TaskReads, accountId: number, product: Product, taskIdList: string, windowDays: number, now: number) {
  return rowsOfTasks(store, accountId, product, parseTaskIds(taskIdList), windowDays, now);
}

/** The wire rows of tasks already parsed by parseTaskIds, of the last `windowDays`. */
export async function rowsOfTasks(store: TaskReads, accountId: number, product: Product, taskIds: string[], windowDays: number, now: number) {
  const rows = await store.tasks.itemsOfTasks(accountId, product, taskIds, now - windowDays * DAY_MS);
  return rows.map((r) => toWire(r));
}

/**
 * How many of these tasks still have a row Pending or Refreshing: 0 when every row is terminal
 * (WaitForTasks asks after every batch of outcomes). A probe per task, not a count of its rows:
 * counting re-read every row of a 1,000-item task each time (docs/benchmarks.md, fan-out).
 */
export async function countUnfinished(store: TaskReads, accountId: number, product: Product, taskIds: string[], windowDays: number, now: number): Promise<number> {
  return store.tasks.countOpenTasks(accountId, product, taskIds, now - windowDays * DAY_MS);
}

export function toWire(r: ItemRow, unconfirmedAs?: 'Refreshing'): TaskRowWire {
  const status = deriveStatus(r.counts);
  return {
    CreationTime: formatUtc(r.createdAt),
    Description: r.description,
    ObjectPath: r.objectPath,
    ObjectType: r.objectType satisfies SubmitType,
    Process: formatProcess(r.counts),
    Status: status === 'Pending' && unconfirmedAs ? unconfirmedAs : status,
    TaskId: r.taskId,
  };
}
