// The task list: DescribeRefreshTasks / DescribeVodRefreshTasks with filters kept in the URL
// (#/tasks?domain=…&type=…&status=…&start=…&end=…&size=…&page=…), paging, and progress bars that
// refresh every 2 s while any visible row is still Pending or Refreshing.

import { call, productOf } from './api.js';
import { badge, el, errorBox, fill, formatLocal, localInputToUtc, poll, progressBar, template, TERMINAL, timeCell, utcToLocalInput } from './ui.js';

const LIVE_MS = 2000;
const FILTER_KEYS = ['domain', 'type', 'status', 'start', 'end', 'size'];

export function hasActive(rows) {
  return rows.some((r) => !TERMINAL.has(r.Status));
}

/** The shared task table (the list and the overview's recent tasks). */
export function taskTable(rows, caption) {
  return el('div.table-wrap',
    el('table.tasks',
      el('caption.visually-hidden', caption),
      el('thead', el('tr',
        el('th', { scope: 'col' }, 'Task'),
        el('th', { scope: 'col' }, 'Path'),
        el('th', { scope: 'col' }, 'Type'),
        el('th', { scope: 'col' }, 'Status'),
        el('th.col-progress', { scope: 'col' }, 'Progress'),
        el('th', { scope: 'col' }, 'Created'))),
      el('tbody', rows.map((r) => el('tr', { dataset: { taskId: r.TaskId, status: r.Status } },
        el('td', el('a.mono', { href: `#/task/${encodeURIComponent(r.TaskId)}` }, r.TaskId)),
        el('td.path', { title: r.ObjectPath }, r.ObjectPath),
        el('td', r.ObjectType),
        el('td', badge(r.Status), r.Description ? el('span.row-note', r.Description) : null),
        el('td', progressBar(r.Process, r.Status, `Progress of ${r.ObjectPath}`)),
        el('td.nowrap', timeCell(r.CreationTime)))))));
}

/** Client-side checks of the API's filter rules, so the user hears about them before a call. */
function validate(f) {
  if ((f.domain || f.status) && !f.type) {
    return { field: 'type', message: 'Choose a type as well: the API filters by domain or status only within one type of task.' };
  }
  if (Boolean(f.start) !== Boolean(f.end)) {
    return { field: f.start ? 'end' : 'start', message: 'Give both ends of the time range, or neither.' };
  }
  if (f.start && f.end && f.end <= f.start) {
    return { field: 'end', message: 'The end of the time range must be later than its start.' };
  }
  return null;
}

export function renderTaskList(root, { creds, query, navigate }) {
  const product = productOf(creds);
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, query.get(k) ?? '']));
  const size = Math.min(product.maxPageSize, Math.max(1, Number.parseInt(filters.size, 10) || 20));
  const page = Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1);

  const form = template('tpl-filters');
  const formStatus = form.querySelector('.form-status');
  form.elements.domain.value = filters.domain;
  form.elements.type.value = filters.type;
  form.elements.status.value = filters.status;
  form.elements.start.value = filters.start ? utcToLocalInput(filters.start) : '';
  form.elements.end.value = filters.end ? utcToLocalInput(filters.end) : '';
  for (const opt of [...form.elements.size.options]) if (Number(opt.value) > product.maxPageSize) opt.remove();
  form.elements.size.value = String(size);

  const hrefFor = (f, p) => {
    const q = new URLSearchParams();
    for (const k of FILTER_KEYS) if (f[k]) q.set(k, f[k]);
    if (p > 1) q.set('page', String(p));
    const s = q.toString();
    return s ? `#/tasks?${s}` : '#/tasks';
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    const f = {
      domain: form.elements.domain.value.trim(),
      type: form.elements.type.value,
      status: form.elements.status.value,
      start: localInputToUtc(form.elements.start.value),
      end: localInputToUtc(form.elements.end.value),
      size: form.elements.size.value === '20' ? '' : form.elements.size.value,
    };
    const problem = validate(f);
    if (problem) {
      const input = form.elements[problem.field];
      input.setAttribute('aria-invalid', 'true');
      fill(formStatus, errorBox({ code: 'InvalidFilter', message: problem.message }));
      input.focus();
      return;
    }
    navigate(hrefFor(f, 1));
  });
  form.querySelector('[data-action=clear]').addEventListener('click', () => navigate('#/tasks'));

  const summary = el('p.list-summary', 'Loading tasks…');
  const live = el('span.live', { hidden: true }, el('span.live-dot', { 'aria-hidden': 'true' }), 'Live: updating every 2 s');
  const refreshButton = el('button.btn.btn-small', { type: 'button' }, 'Refresh');
  const results = el('div.results', { 'aria-busy': 'true' });
  const pager = el('nav.pager', { 'aria-label': 'Pages' });

  fill(root,
    el('div.page-head', el('h1', 'Tasks'), el('p.muted', `${product.label} refresh and preload tasks of the last 3 days, newest first.`)),
    form,
    el('section.card', { 'aria-label': 'Task list' },
      el('div.card-head', summary, el('div.head-actions', live, refreshButton)),
      results,
      pager));

  const params = {
    DomainName: filters.domain,
    ObjectType: filters.type,
    Status: filters.status,
    StartTime: filters.start,
    EndTime: filters.end,
    PageSize: size,
    PageNumber: page,
  };

  const tick = async () => {
    try {
      const res = await call(creds, product.list, params);
      const rows = res.Tasks?.[product.listElement] ?? [];
      const total = Number(res.TotalCount ?? rows.length);
      const pages = Math.max(1, Math.ceil(total / size));
      const first = total ? (page - 1) * size + 1 : 0;
      fill(summary, total
        ? `${first}–${first + rows.length - 1} of ${total} ${total === 1 ? 'task row' : 'task rows'}`
        : 'No tasks');
      fill(results, rows.length
        ? taskTable(rows, 'Tasks')
        : el('p.empty', total ? 'This page is past the last one.' : 'No tasks match these filters in the last 3 days.'));
      renderPager(pager, page, pages, (p) => navigate(hrefFor(filters, p)));
      const active = hasActive(rows);
      live.hidden = !active;
      refreshButton.title = `Last updated ${formatLocal(new Date())}`;
      return active;
    } catch (err) {
      fill(summary, 'The tasks could not be listed.');
      fill(results, errorBox(err));
      pager.replaceChildren();
      live.hidden = true;
      return false;
    } finally {
      results.removeAttribute('aria-busy');
    }
  };

  let stop = poll(tick, LIVE_MS);
  refreshButton.addEventListener('click', () => {
    stop();
    stop = poll(tick, LIVE_MS);
  });
  return () => stop();
}

function renderPager(nav, page, pages, go) {
  if (pages <= 1 && page <= 1) {
    nav.replaceChildren();
    return;
  }
  const button = (label, target, disabled) =>
    el('button.btn.btn-small', { type: 'button', disabled: disabled || undefined, onclick: () => go(target) }, label);
  fill(nav,
    button('← Previous', page - 1, page <= 1),
    el('span.pager-info', { 'aria-current': 'page' }, `Page ${page} of ${pages}`),
    button('Next →', page + 1, page >= pages));
}
