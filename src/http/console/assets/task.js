// A task's page: DescribeRefreshTaskNodes for #/task/<id>[,<id>…] — every item of the task with
// each cache node's state, attempts, last error and applied time, refreshed until all are done;
// while it runs, a Cancel button (CancelRefreshTasks, asked twice).

import { call, productOf } from './api.js';
import { badge, el, errorBox, fill, noticeBox, poll, progressBar, TERMINAL, timeCell } from './ui.js';

const LIVE_MS = 1500;
const MAX_IDS = 10;

export function renderTask(root, { creds, args }) {
  const product = productOf(creds);
  const ids = String(args[0] ?? '').split(',').map((s) => s.trim()).filter(Boolean).slice(0, MAX_IDS);
  const title = ids.length === 1 ? `Task ${ids[0]}` : `Tasks ${ids.join(', ')}`;
  const summary = el('div.task-summary', el('p.muted', 'Loading…'));
  const live = el('span.live', { hidden: true }, el('span.live-dot', { 'aria-hidden': 'true' }), 'Live: updating until every node is done');
  const items = el('div.items', { 'aria-busy': 'true' });
  const cancelled = el('div.cancel-result', { 'aria-live': 'polite' });
  const cancel = cancelControl(ids, creds, cancelled, () => tick());

  fill(root,
    el('p.crumbs', el('a', { href: '#/tasks' }, '← All tasks')),
    el('div.page-head.page-head-row', el('h1', title), live, cancel.ask),
    cancel.panel,
    cancelled,
    summary,
    items);

  if (ids.length === 0) {
    fill(summary, errorBox({ code: 'MissingParameter', message: 'No task id was given in the address.' }));
    items.removeAttribute('aria-busy');
    return undefined;
  }

  const tick = async () => {
    try {
      const res = await call(creds, 'DescribeRefreshTaskNodes', { TaskId: ids.join(',') });
      const list = res.Items ?? [];
      if (list.length === 0) {
        fill(summary, el('p.empty', `No ${product.label} task with ${ids.length === 1 ? 'this id' : 'these ids'} in the last 3 days.`));
        items.replaceChildren();
        live.hidden = true;
        return false;
      }
      const detail = product.preloadDetail && ids.length === 1 && list.every((it) => it.ObjectType === 'preload')
        ? (await call(creds, product.preloadDetail, { TaskId: ids[0] })).UrlDetails?.[0]
        : undefined;
      fill(summary, summaryCard(list), detail ? detailCard(detail) : null);
      fill(items, list.map(itemCard));
      const active = list.some((it) => !TERMINAL.has(it.Status));
      live.hidden = !active;
      cancel.show(active);
      return active;
    } catch (err) {
      fill(summary, errorBox(err));
      live.hidden = true;
      cancel.show(false);
      return false;
    } finally {
      items.removeAttribute('aria-busy');
    }
  };
  return poll(tick, LIVE_MS);
}

/**
 * The Cancel button of a running task, and its confirmation in a panel below the heading (no
 * modal dialog): the first click asks, "Yes, cancel" calls CancelRefreshTasks and says what
 * came of it.
 */
function cancelControl(ids, creds, out, refresh) {
  const noun = ids.length === 1 ? 'task' : 'tasks';
  const ask = el('button.btn.btn-small.cancel-ask', { type: 'button', hidden: true }, `Cancel ${noun}…`);
  const yes = el('button.btn.btn-small.btn-danger', { type: 'button' }, 'Yes, cancel');
  const no = el('button.btn.btn-small', { type: 'button' }, 'Keep running');
  const panel = el('section.card.cancel-confirm', { hidden: true, 'aria-label': `Cancel ${noun}` },
    el('p', `Cancel ${ids.length === 1 ? 'this task' : `these ${ids.length} tasks`}? Nodes that have not done it yet are dropped; what they did stays.`),
    el('div.cancel-buttons', yes, no));
  let running = false;
  const asking = (on) => {
    panel.hidden = !on;
    ask.hidden = on || !running;
    if (on) no.focus();
  };
  ask.addEventListener('click', () => asking(true));
  no.addEventListener('click', () => {
    asking(false);
    ask.focus();
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      const res = await call(creds, 'CancelRefreshTasks', { TaskId: ids.join(',') }, { method: 'POST' });
      const tasks = res.Tasks ?? [];
      const dropped = tasks.reduce((n, t) => n + t.CanceledNodes, 0);
      const kept = tasks.reduce((n, t) => n + t.AppliedNodes, 0);
      fill(out, noticeBox(`Canceled: ${dropped} node ${dropped === 1 ? 'attempt' : 'attempts'} dropped; ${kept} already applied ${kept === 1 ? 'stays' : 'stay'}.`));
      running = false;
      refresh();
    } catch (err) {
      fill(out, errorBox(err));
    } finally {
      yes.disabled = false;
      asking(false);
    }
  });
  // The button shows while something runs; an open confirmation stays open across refreshes.
  const show = (active) => {
    running = active;
    ask.hidden = !active || !panel.hidden;
    if (!active) panel.hidden = true;
  };
  return { ask, panel, show };
}

function countBy(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Items by status and node confirmations over all items. */
function summaryCard(list) {
  const nodes = list.flatMap((it) => it.Nodes ?? []);
  const applied = nodes.filter((n) => n.State === 'Applied').length;
  const failed = nodes.filter((n) => n.State === 'Failed').length;
  const statuses = countBy(list.map((it) => it.Status));
  return el('section.card.summary-card', { 'aria-label': 'Summary' },
    el('dl.stats',
      el('div', el('dt', 'Items'), el('dd', String(list.length))),
      el('div', el('dt', 'Status'), el('dd', [...statuses].map(([s, n]) => el('span.stat-status', badge(s), ` ${n}`)))),
      el('div', el('dt', 'Node confirmations'), el('dd', `${applied} of ${nodes.length} applied`)),
      el('div', el('dt', 'Node failures'), el('dd', { class: failed ? 'text-bad' : '' }, String(failed))),
      el('div', el('dt', 'Type'), el('dd', [...new Set(list.map((it) => it.ObjectType))].join(', '))),
      el('div', el('dt', 'Created'), el('dd', timeCell(list[0].CreationTime)))));
}

/** DescribePreloadDetailById: per URL, on what share of nodes it was warmed, or why not. */
function detailCard(d) {
  return el('section.card.preload-detail', { 'aria-label': 'Preload detail' },
    el('h2', 'Preload detail'),
    el('p.muted.small', `${d.Domain} · ${d.Status} ${d.Process}`, d.RetCode ? ` · RetCode ${d.RetCode}` : '', d.EndTime ? ` · ended ${d.EndTime}` : ''),
    el('div.table-wrap', el('table',
      el('thead', el('tr', el('th', { scope: 'col' }, 'URL'), el('th.num', { scope: 'col' }, 'Warmed on'), el('th', { scope: 'col' }, 'Detail'))),
      el('tbody', (d.Urls ?? []).map((u) => el('tr', { dataset: { url: u.Url } },
        el('td.mono', u.Url), el('td.num', u.Success), el('td', u.Description || el('span.muted', '—'))))))));
}

function itemCard(item) {
  const nodes = item.Nodes ?? [];
  return el('section.card.item', { dataset: { path: item.ObjectPath, status: item.Status }, 'aria-label': `Item ${item.ObjectPath}` },
    el('div.item-head',
      el('div.item-title',
        el('h2.path', item.ObjectPath),
        el('p.muted.small', `Task ${item.TaskId} · ${item.ObjectType}`, item.Description ? ` · ${item.Description}` : '')),
      el('div.item-state', badge(item.Status), progressBar(item.Process, item.Status, `Progress of ${item.ObjectPath}`))),
    nodes.length
      ? el('div.table-wrap', el('table.nodes',
        el('caption.visually-hidden', `Cache nodes for ${item.ObjectPath}`),
        el('thead', el('tr',
          el('th', { scope: 'col' }, 'Node'),
          el('th', { scope: 'col' }, 'Driver'),
          el('th', { scope: 'col' }, 'Group'),
          el('th', { scope: 'col' }, 'State'),
          el('th', { scope: 'col' }, 'Verified'),
          el('th.num', { scope: 'col' }, 'Attempts'),
          el('th', { scope: 'col' }, 'Error'),
          el('th', { scope: 'col' }, 'Applied'))),
        el('tbody', nodes.map(nodeRow))))
      : el('p.empty', 'No cache node is in scope for this item (the domain’s group has no enabled node).'));
}

function nodeRow(n) {
  const retrying = n.State === 'Pending' && n.Attempts > 0 && n.Error;
  return el('tr', { dataset: { node: n.Node, state: n.State } },
    el('td.mono', n.Node),
    el('td', n.Driver),
    el('td', n.Group),
    el('td', badge(n.State), n.Phase ? el('span.row-note', n.Phase === 'Purge' ? 'purging' : `preload · purged ${n.PurgedTime.slice(11, 19)}`) : null,
      retrying ? el('span.row-note', 'retrying') : null),
    // Probe: the node's cache was looked at after the operation; Ack: its answer was taken.
    el('td', n.Verified || el('span.muted', '—')),
    el('td.num', String(n.Attempts)),
    el('td.error-cell', n.Error ? el('span.text-bad', n.Error) : el('span.muted', '—')),
    el('td.nowrap', timeCell(n.AppliedTime)));
}
