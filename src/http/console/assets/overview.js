// Overview: what is left of today's quotas, the submit form, and the newest tasks with live progress.

import { call, productOf } from './api.js';
import { el, errorBox, fill, noticeBox, poll, template } from './ui.js';
import { hasActive, taskTable } from './tasks.js';

const RECENT = 5;
const LIVE_MS = 2000;

export function renderOverview(root, { creds }) {
  const product = productOf(creds);
  const quotaBody = el('div.quota-grid', { 'aria-busy': 'true' }, el('p.muted', 'Loading quotas…'));
  const quotaSection = el('section.card', { 'aria-labelledby': 'quota-title' },
    el('div.card-head',
      el('h2', { id: 'quota-title' }, 'Quotas left today'),
      el('span.muted.small', 'Resets at 00:00 UTC')),
    quotaBody);
  const submit = template('tpl-submit');
  const recentBody = el('div', el('p.muted', 'Loading tasks…'));
  const recentSection = el('section.card', { 'aria-labelledby': 'recent-title' },
    el('div.card-head',
      el('h2', { id: 'recent-title' }, 'Recent tasks'),
      el('a', { href: '#/tasks' }, 'All tasks and filters →')),
    recentBody);

  fill(root,
    el('div.page-head',
      el('h1', 'Overview'),
      el('p.muted', `${product.label} refresh and preload, API version ${product.version}.`)),
    el('div.overview-grid', submit, quotaSection),
    recentSection);

  const loadQuotas = async () => {
    try {
      fill(quotaBody, quotaList(product, await call(creds, product.quota)));
    } catch (err) {
      fill(quotaBody, errorBox(err));
    } finally {
      quotaBody.removeAttribute('aria-busy');
    }
  };

  let stopRecent = null;
  const watchRecent = () => {
    stopRecent?.();
    stopRecent = poll(async () => {
      try {
        const res = await call(creds, product.list, { PageSize: RECENT, PageNumber: 1 });
        const rows = res.Tasks?.[product.listElement] ?? [];
        fill(recentBody, rows.length ? taskTable(rows, 'Recent tasks') : el('p.empty', 'No tasks in the last 3 days yet. Submit one above.'));
        return hasActive(rows);
      } catch (err) {
        fill(recentBody, errorBox(err));
        return false;
      }
    }, LIVE_MS);
  };

  wireSubmit(submit, creds, product, () => {
    loadQuotas();
    watchRecent();
  });
  loadQuotas();
  watchRecent();
  return () => stopRecent?.();
}

/** One row per quota: what is left, of how much, and a bar of what is used. */
function quotaList(product, body) {
  return el('ul.quota-list', product.quotas.map(([key, label]) => {
    const quota = Number(body[`${key}Quota`] ?? 0);
    const remain = Number(body[`${key}Remain`] ?? 0);
    const used = quota > 0 ? Math.min(100, ((quota - remain) / quota) * 100) : 0;
    const bar = el('span.quota-used');
    bar.style.width = `${used}%`;
    return el('li.quota', { dataset: { quota: key } },
      el('span.quota-label', label),
      el('span.quota-value', el('strong', remain.toLocaleString('en-US')), ` left of ${quota.toLocaleString('en-US')}`),
      el('span.quota-bar', { 'aria-hidden': 'true' }, bar));
  }));
}

/** A form's sample URLs (VerifyUrl), one a line; undefined when none were given. */
function samples(data, name) {
  const lines = String(data.get(name) ?? '').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  return lines.length ? lines.join('\n') : undefined;
}

function wireSubmit(section, creds, product, onSubmitted) {
  const form = section.querySelector('form');
  const status = form.querySelector('.form-status');
  const button = form.querySelector('button[type=submit]');
  const paths = form.querySelector('textarea');

  const kind = () => new FormData(form).get('kind');
  // Purge by tag is a CDN action: VOD sessions do not offer it.
  for (const needs of form.querySelectorAll('[data-needs]')) needs.hidden = !product[needs.dataset.needs];
  const label = form.querySelector('[data-kind-label]');
  const showKind = () => {
    for (const box of form.querySelectorAll('[data-kind]')) box.hidden = box.dataset.kind !== kind();
    button.textContent = { preload: 'Submit preload', tag: 'Purge by tag' }[kind()] ?? 'Submit refresh';
    label.textContent = label.dataset.kindLabel.split('|')[kind() === 'tag' ? 1 : 0];
  };
  form.addEventListener('change', (event) => {
    if (event.target.name === 'kind') showKind();
  });
  showKind();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const lines = String(data.get('paths') ?? '').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (lines.length === 0) {
      fill(status, errorBox({ code: 'MissingParameter', message: kind() === 'tag' ? 'Enter at least one cache tag, one per line.' : 'Enter at least one URL, one per line.' }));
      paths.setAttribute('aria-invalid', 'true');
      paths.focus();
      return;
    }
    paths.removeAttribute('aria-invalid');
    if (kind() === 'tag') return submitTags(data, lines);
    const preload = kind() === 'preload';
    const params = preload
      ? { ObjectPath: lines.join('\n'), Area: data.get('area') || undefined, L2Preload: data.get('l2') ? 'true' : undefined, ExpandManifest: data.get('expandManifest') ? 'true' : undefined }
      : { ObjectPath: lines.join('\n'), ObjectType: data.get('objectType'), Force: data.get('force') ? 'true' : undefined, PreloadAfter: data.get('thenPreload') ? 'true' : undefined,
        VerifyUrl: samples(data, 'verifyUrl') };
    button.disabled = true;
    fill(status, 'Submitting…');
    try {
      const res = await call(creds, preload ? product.preload : product.refresh, params, { method: 'POST' });
      const ids = String(res[preload ? product.preloadId : product.refreshId] ?? '').split(',').filter(Boolean);
      const what = `${lines.length} ${lines.length === 1 ? 'path' : 'paths'}`;
      fill(status, noticeBox(
        `${preload ? 'Preload' : 'Refresh'} of ${what} accepted as ${ids.length === 1 ? 'task' : 'tasks'} `,
        ids.map((id, i) => [i ? ', ' : '', el('a', { href: `#/task/${id}` }, id)]),
        '. ',
        ids.length > 1 ? el('a', { href: `#/task/${ids.slice(0, 10).join(',')}` }, 'View them together') : null));
      paths.value = '';
      for (const box of form.querySelectorAll('[name=verifyUrl], [name=tagVerifyUrl]')) box.value = '';
      onSubmitted();
    } catch (err) {
      fill(status, errorBox(err));
    } finally {
      button.disabled = false;
    }
  });

  async function submitTags(data, tags) {
    button.disabled = true;
    fill(status, 'Submitting…');
    try {
      const params = {
        CacheTag: tags.join(','), DomainName: String(data.get('tagDomain') ?? '').trim(), Force: data.get('tagForce') ? 'true' : undefined,
        VerifyUrl: samples(data, 'tagVerifyUrl'),
      };
      const res = await call(creds, product.tagRefresh, params, { method: 'POST' });
      fill(status, noticeBox(`Purge of ${tags.length} ${tags.length === 1 ? 'tag' : 'tags'} accepted as task `, el('a', { href: `#/task/${res.RefreshTaskId}` }, res.RefreshTaskId), '.'));
      paths.value = '';
      for (const box of form.querySelectorAll('[name=verifyUrl], [name=tagVerifyUrl]')) box.value = '';
      onSubmitted();
    } catch (err) {
      fill(status, errorBox(err));
    } finally {
      button.disabled = false;
    }
  }
}
