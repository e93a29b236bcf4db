import { TASK_ROW_RESULT, taskIdList } from './params.js';
import { defineAction, type Product } from './types.js';

/**
 * refreshd's own actions, beyond Alibaba's API, on both products with the same signing: the
 * per-node verification, push-style waiting and cancelling that no anchor offers.
 */
export const describeTaskNodes = (product: Product) =>
  defineAction({
    name: 'DescribeRefreshTaskNodes',
    summary:
      'refreshd extension: per-node state of the items of up to 10 tasks — which cache nodes confirmed, which are pending or failed, and why. A node\'s State is Pending, Applied or Failed; its Verified says how its outcome was established: Probe (its cache was looked at afterwards: the object, the directory\'s own URL, or the VerifyUrl samples), Canary (a Regex without samples, proven on the node\'s canary object), or Ack (its answer was taken: a group set to ack, a driver without a probe, a cache tag or Regex with nothing to look at), empty while Pending. Paged by item: at most 100 items (each with all its nodes) per call.',
    ramAction: `${product}:DescribeRefreshTaskNodes`,
    resource: '*',
    rateLimit: { perSecond: 30, error: 'Throttling' },
    params: {
      TaskId: taskIdList(),
      PageNumber: { type: 'integer', min: 1, max: 100_000, default: 1, doc: 'Page of items, from 1.' },
      PageSize: { type: 'integer', min: 1, max: 100, default: 20, doc: 'Items per page, 1–100, default 20; each item lists all its nodes.' },
    },
    errors: ['MissingParameter', 'InvalidParameter', 'InvalidTaskId.Malformed'],
    notes: [
      'A node\'s Attempts count the tries of its current phase; Error is the last failure\'s reason; AppliedTime is when the node applied the item (for purge-then-warm: when it preloaded it).',
      'Purge-then-warm rows (RefreshObjectCaches PreloadAfter=true): Phase is `Purge` until the node has confirmed the purge, then `Preload` (State Pending while the preload runs, Applied once it has warmed the URL, Failed if it could not); PurgedTime is when the node confirmed the purge. Both are empty for other rows.',
    ],
    result: {
      RequestId: 'string',
      TotalCount: 'integer — items of these tasks',
      PageNumber: 'integer',
      PageSize: 'integer',
      'Items[]': 'TaskId, ObjectPath, ObjectType, Status, Process, Description, CreationTime; Nodes[]: Node, Driver, Group, State, Attempts, Error, AppliedTime, Verified, Phase, PurgedTime',
    },
  });

export const waitForTasks = (product: Product) =>
  defineAction({
    name: 'WaitForTasks',
    summary:
      'refreshd extension: long-poll — answers as soon as every item of up to 10 tasks is Complete or Failed, or when Timeout passes (Done tells which). Set the client read timeout above Timeout.',
    ramAction: `${product}:WaitForTasks`,
    resource: '*',
    rateLimit: { perSecond: 30, error: 'Throttling' },
    params: {
      TaskId: taskIdList(),
      Timeout: { type: 'integer', min: 0, max: 60, default: 20, doc: 'Seconds to wait at most, 0–60, default 20.' },
    },
    errors: ['MissingParameter', 'InvalidParameter', 'InvalidTaskId.Malformed'],
    taskList: { element: null },
    result: { RequestId: 'string', Done: 'boolean — every row is terminal', TotalCount: 'integer', 'Tasks[]': TASK_ROW_RESULT },
  });

export const cancelRefreshTasks = (product: Product) =>
  defineAction({
    name: 'CancelRefreshTasks',
    summary:
      'refreshd extension: cancel up to 10 running refresh or preload tasks. Work not yet applied on a node is dropped; every item not yet Complete becomes Failed, its unfinished nodes with the reason `canceled`. What nodes already applied is reported, not undone.',
    ramAction: `${product}:CancelRefreshTasks`,
    resource: '*',
    rateLimit: { perSecond: 20, error: 'Throttling' },
    params: { TaskId: taskIdList() },
    errors: ['MissingParameter', 'InvalidParameter', 'InvalidTaskId.Malformed'],
    result: {
      RequestId: 'string',
      TotalCount: 'integer — tasks found (of this account and product, last 3 days)',
      'Tasks[]': 'TaskId, Status, Items, CanceledItems, CanceledNodes, AppliedNodes',
    },
    notes: [
      'Per task, in the order given: `Status` after the call (`Complete` when every item was already Complete, else `Failed`); `Items`, the items of the task; `CanceledItems`, those this call stopped work on; `CanceledNodes`, the node attempts it canceled; `AppliedNodes`, the node attempts already applied, which stay applied.',
      'A task that had already finished answers with its state unchanged and `CanceledNodes` 0; so does a second cancel of the same task. An unknown id, another account\'s or another product\'s, or one older than 3 days is left out of `Tasks`, as DescribeRefreshTaskById leaves it out.',
      'In DescribeRefreshTaskNodes each canceled node reads State `Failed`, Error `canceled`; the item\'s Description is `Canceled` unless a node had failed before with its own reason. A canceled task counts as finished for WaitForTasks and webhooks (TaskFinished, Status `Failed`).',
      'A node attempt a worker is running at the moment of the cancel may still reach the node; its outcome is no longer counted. Quota charged at submit is not given back.',
    ],
  });
