import { describeTaskIds, type TaskRowWire } from '../../domain/describe.js';
import { formatUtc } from '../../protocol/encoding.js';
import type { NodeAttemptRow } from '../../store/port.js';
import { DAY_MS } from '../../domain/quota.js';
import type { Handler } from '../context.js';

const STATE: Record<NodeAttemptRow['state'], string> = { pending: 'Pending', applied: 'Applied', failed: 'Failed' };
const VERIFIED = { probe: 'Probe', ack: 'Ack' } as const;

/**
 * DescribeRefreshTaskNodes (refreshd extension): the verification no anchor offers — for each
 * item, every cache node in scope with its state, attempts, last error, when it applied, and
 * how that outcome was verified.
 */
export const describeTaskNodes: Handler = async (ctx) => {
  const product = ctx.product.product;
  const rows: TaskRowWire[] = await describeTaskIds(ctx.store, ctx.account.id, product, ctx.params.TaskId as string, ctx.config.queryWindowDays, ctx.now);
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
      // How the outcome was established: Probe (the node's cache was looked at), Ack (its answer was taken).
      Verified: a.verifiedBy === null ? '' : VERIFIED[a.verifiedBy],
    })),
  }));
  return { TotalCount: items.length, Items: items };
};
