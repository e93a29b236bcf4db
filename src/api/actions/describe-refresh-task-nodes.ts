import { parseTaskIds, toWire } from '../../domain/describe.js';
import { DAY_MS } from '../../domain/quota.js';
import { formatUtc } from '../../protocol/encoding.js';
import type { NodeAttemptRow } from '../../store/port.js';
import type { CDN_ACTIONS } from '../../spec/cdn-2018-05-10.js';
import type { Handler } from '../context.js';

const STATE: Record<NodeAttemptRow['state'], string> = { pending: 'Pending', applied: 'Applied', failed: 'Failed' };
const VERIFIED = { probe: 'Probe', canary: 'Canary', ack: 'Ack' } as const;
/** Purge-then-warm: the step a node is at, or finished in; empty for single-phase items. */
const PHASE = { purge: 'Purge', preload: 'Preload' } as const;

/**
 * DescribeRefreshTaskNodes (refreshd extension): the verification no anchor offers — for each
 * item, every cache node in scope with its state, attempts, last error, when it applied and how
 * that outcome was verified. One page of items at a time, their attempts read by item id and
 * grouped in one pass: the answer grows with the page, never with the whole task times itself.
 */
export const describeRefreshTaskNodes: Handler<typeof CDN_ACTIONS.DescribeRefreshTaskNodes> = async (ctx) => {
  const product = ctx.product.product;
  const from = ctx.now - ctx.config.queryWindowDays * DAY_MS;
  const { PageNumber: pageNumber, PageSize: pageSize } = ctx.params;
  const rows = await ctx.store.tasks.itemsOfTasks(ctx.account.id, product, parseTaskIds(ctx.params.TaskId), from);
  const page = rows.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  const attempts = await ctx.store.tasks.attemptsOfItems(ctx.account.id, product, page.map((r) => r.itemId), from);
  const byItem = new Map<number, NodeAttemptRow[]>();
  for (const a of attempts) {
    const list = byItem.get(a.itemId);
    if (list) list.push(a);
    else byItem.set(a.itemId, [a]);
  }
  const items = page.map((item) => ({
    ...toWire(item),
    Nodes: (byItem.get(item.itemId) ?? []).map((a) => ({
      Node: a.node,
      Driver: a.driver,
      Group: a.group,
      State: STATE[a.state],
      Attempts: a.attempts,
      Error: a.lastError ?? '',
      AppliedTime: a.appliedAt === null ? '' : formatUtc(a.appliedAt),
      // How the outcome was established: Probe (the node's cache was looked at: the object or the
      // VerifyUrl samples), Canary (the node's canary, for a Regex without samples), Ack (its answer was taken).
      Verified: a.verifiedBy === null ? '' : VERIFIED[a.verifiedBy],
      Phase: a.phase === null ? '' : PHASE[a.phase],
      PurgedTime: a.purgedAt === null ? '' : formatUtc(a.purgedAt),
    })),
  }));
  return { TotalCount: rows.length, PageNumber: pageNumber, PageSize: pageSize, Items: items };
};
