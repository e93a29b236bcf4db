// Small DOM helpers shared by the pages. Everything from the API goes in through textContent or
// attributes, never as HTML.

/**
 * Build an element: `el('a.link', { href: '#/' }, 'text', child)`. The first argument is a tag
 * with optional `.class` parts; attributes starting with `on` become listeners.
 */
export function el(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const node = document.createElement(tag || 'div');
  if (classes.length) node.className = classes.join(' ');
  if (attrs === null || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A fresh copy of a `<template id="…">` from index.html. */
export function template(id) {
  const t = document.getElementById(id);
  return t.content.firstElementChild.cloneNode(true);
}

export const TERMINAL = new Set(['Complete', 'Failed']);

const STATUS_CLASS = {
  Complete: 'ok',
  Applied: 'ok',
  Failed: 'bad',
  Refreshing: 'busy',
  Pending: 'idle',
};

/** A coloured status word (the colour is a hint; the word carries the meaning). */
export function badge(status) {
  return el(`span.badge.badge-${STATUS_CLASS[status] ?? 'idle'}`, status || 'Unknown');
}

/** Parse `"42%"`, `"42.5%"` or a number into 0–100. */
export function percentOf(process) {
  const n = Number.parseFloat(String(process ?? '0'));
  return Number.isFinite(n) ? Math.max(0, Math.min(100, n)) : 0;
}

/** An accessible progress bar with its percentage written beside it. */
export function progressBar(process, status, label) {
  const pct = percentOf(process);
  const fillEl = el(`span.progress-fill.progress-${STATUS_CLASS[status] ?? 'idle'}`);
  fillEl.style.width = `${pct}%`;
  const text = `${Number.isInteger(pct) ? pct : pct.toFixed(1)}%`;
  return el('span.progress',
    el('span.progress-track', {
      role: 'progressbar',
      'aria-label': label,
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': pct,
      'aria-valuetext': `${text}, ${status}`,
    }, fillEl),
    el('span.progress-text', text));
}

/** A UTC API timestamp shown in the viewer's local time, the UTC value kept in the markup. */
export function timeCell(utc) {
  if (!utc) return el('span.muted', '—');
  const d = new Date(utc);
  if (Number.isNaN(d.getTime())) return el('span', utc);
  return el('time', { datetime: utc, title: `${utc} (UTC)` }, `${formatLocal(d)} ${zoneOf(d)}`);
}

/** The viewer's zone as the browser names it for that instant (e.g. GMT+8, CET), so a time never reads as UTC by mistake. */
export function zoneOf(d) {
  return new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

export function formatLocal(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `<input type=datetime-local>` value (local time) → API time `yyyy-MM-ddTHH:mm:ssZ`, or ''. */
export function localInputToUtc(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 19) + 'Z';
}

/** API time → `<input type=datetime-local>` value in local time. */
export function utcToLocalInput(utc) {
  const d = new Date(utc);
  return Number.isNaN(d.getTime()) ? '' : formatLocal(d).replace(' ', 'T');
}

/** What to do next, for the errors a console user can act on. */
const HINTS = {
  SignatureDoesNotMatch: 'Check the AccessKey secret: it must be the one issued with this AccessKey ID.',
  'InvalidAccessKeyId.NotFound': 'Check the AccessKey ID; refreshd has no such key.',
  'InvalidAccessKeyId.Inactive': 'This AccessKey is disabled; ask an administrator to enable it or issue a new pair.',
  'InvalidTimeStamp.Expired': 'Your computer’s clock differs from the server’s by more than the allowed skew; correct the clock and try again.',
  'Forbidden.RAM': 'This key is not allowed to call that action.',
  'InvalidDomain.NotFound': 'Add the domain to refreshd first (refreshd domain add NAME), or check its spelling.',
  'InvalidDomain.Offline': 'The domain is offline; enable it before submitting tasks for it.',
  'QuotaExceeded.Refresh': 'Today’s quota for this kind of task is used up; it resets at 00:00 UTC.',
  Throttling: 'Too many requests at once; wait a moment and try again.',
  TooManyRequests: 'Too many requests at once; wait a moment and try again.',
};

/** An error as a sentence, its Alibaba code beside it, announced to screen readers. */
export function errorBox(err) {
  const code = err?.code ?? 'Error';
  let message = err?.message || 'Something went wrong.';
  // Like Alibaba, SignatureDoesNotMatch carries the server's string to sign: a detail, not the sentence.
  let detail = '';
  const split = /^(.*?)\s*server string to sign is:\s*(\S+)\s*$/s.exec(message);
  if (split) [, message, detail] = split;
  const hint = HINTS[code];
  return el('div.alert.alert-error', { role: 'alert' },
    el('p.alert-message', message, ' ', el('code.error-code', { title: 'Error code' }, code)),
    hint ? el('p.alert-hint', hint) : null,
    detail ? el('details.alert-detail', el('summary', 'The server’s string to sign'), el('code', detail)) : null,
    err?.requestId ? el('p.alert-meta', 'Request ID ', el('code', err.requestId)) : null);
}

export function noticeBox(...children) {
  return el('div.alert.alert-ok', { role: 'status' }, ...children);
}

/** Run `tick` now and then every `ms` until the returned stop function is called. */
export function poll(tick, ms) {
  let stopped = false;
  let timer = 0;
  const loop = async () => {
    if (stopped) return;
    let again = true;
    try {
      again = (await tick()) !== false;
    } catch {
      // The tick shows its own errors; keep trying on the next beat.
    }
    if (!stopped && again) timer = setTimeout(loop, ms);
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
