import { describeTaskIds, type TaskRowWire } from '../../domain/describe.js';
import { formatUtc } from '../../protocol/encoding.js';
import type { NodeAttemptRow } from '../../store/port.js';
import { DAY_MS } from '../../domain/quota.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

const STATE: Record<NodeAttemptRow['state'], string> = { pending: 'Pending', applied: 'Applied', failed: 'Failed' };

/**
 * DescribeRefreshTaskNodes (refreshd extension): the verification no anchor offers — for each
 * item, every cache node in scope with its state, attempts, last error and when it applied.
 */
export const describeRefreshTaskNodes: Handler<typeof CDN_ACTIONS.DescribeRefreshTaskNodes> = async (ctx) => {
  const product = ctx.product.product;
  const rows: TaskRowWire[] = await describeTaskIds(ctx.store, ctx.account.id, product, ctx.params.TaskId, ctx.config.queryWindowDays, ctx.now);
  const ids = [...new Set(rows.map((r) => r.TaskId))];
  const attempts = await ctx.store.attemptsOfTasks(ctx.account.id, product, ids, ctx.now - ctx.config.queryWindowDays * DAY_MS);
  const byItem = new Map<string, NodeAttemptRow[]>();
  for (const a of attempts) {
    const key = `${a.taskId}\n${a.objectPath}`;
    byItem.set(key, [...(byItem.get(key) ?? []), a]);
  }
  const items = rows.map((r) => ({
    ...r,
    Nodes: (byItem.get(`${r.TaskId}\n${r.ObjectPath}`) ?? []).map((a) => ({
      Node: a.node,
      Driver: a.driver,
      Group: a.group,
      State: STATE[a.state],
      Attempts: a.attempts,
      Error: a.lastError ?? '',
      AppliedTime: a.appliedAt === null ? '' : formatUtc(a.appliedAt),
    })),
  }));
  return { TotalCount: items.length, Items: items };
};
