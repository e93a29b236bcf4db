// The console shell: hash routing, the header (product switch, key, sign-out) and the sign-in page.
// Routes: #/signin, #/overview, #/tasks?filters…, #/task/<id>[,<id>…].

import { call, clearCredentials, cryptoAvailable, loadCredentials, PRODUCTS, productOf, saveCredentials } from './api.js';
import { errorBox, fill, template } from './ui.js';
import { renderOverview } from './overview.js';
import { renderTaskList } from './tasks.js';
import { renderTask } from './task.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const account = document.getElementById('account');
const keyId = document.getElementById('key-id');
const productSelect = document.getElementById('product-select');

/** Stops the current page's timers when another page takes over. */
let cleanup = null;

/** `#/tasks?type=file&page=2` → { name: 'tasks', args: [], query: URLSearchParams }. */
function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  const [name = '', ...args] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name, args, query: new URLSearchParams(search) };
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function updateHeader(creds, routeName) {
  nav.hidden = account.hidden = !creds;
  if (creds) {
    keyId.textContent = creds.id;
    productSelect.value = creds.product;
    document.title = `refreshd ${productOf(creds).label} console`;
  } else {
    document.title = 'refreshd console';
  }
  for (const a of nav.querySelectorAll('a')) {
    const current = a.dataset.route === routeName || (a.dataset.route === 'tasks' && routeName === 'task');
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function route() {
  cleanup?.();
  cleanup = null;
  const r = parseRoute();
  const creds = loadCredentials();
  if (!creds && r.name !== 'signin') {
    navigate('#/signin');
    return;
  }
  if (creds && (r.name === 'signin' || r.name === '')) {
    navigate('#/overview');
    return;
  }
  updateHeader(creds, r.name);
  const ctx = { creds, query: r.query, args: r.args, navigate };
  let stop;
  switch (r.name) {
    case 'signin': stop = renderSignIn(main); break;
    case 'overview': stop = renderOverview(main, ctx); break;
    case 'tasks': stop = renderTaskList(main, ctx); break;
    case 'task': stop = renderTask(main, ctx); break;
    default:
      fill(main, errorBox({ code: 'NotFound', message: `The console has no page “${r.name}”.` }));
  }
  cleanup = typeof stop === 'function' ? stop : null;
  // Move focus to the new page's heading so keyboard and screen-reader users start there.
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

function renderSignIn(root) {
  const page = template('tpl-signin');
  fill(root, page);
  const form = page.querySelector('form');
  const status = form.querySelector('.form-status');
  const button = form.querySelector('button[type=submit]');
  if (!cryptoAvailable()) {
    fill(status, errorBox({
      code: 'InsecureContext',
      message: 'This page is not a secure context, so the browser offers no WebCrypto to sign requests. Open the console over HTTPS or on localhost.',
    }));
    button.disabled = true;
    return;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const creds = {
      id: String(data.get('id') ?? '').trim(),
      secret: String(data.get('secret') ?? ''),
      product: PRODUCTS[data.get('product')] ? String(data.get('product')) : 'cdn',
    };
    if (!creds.id || !creds.secret) {
      fill(status, errorBox({ code: 'MissingParameter', message: 'Enter both the AccessKey ID and the AccessKey secret.' }));
      form.querySelector(creds.id ? '#signin-secret' : '#signin-id').focus();
      return;
    }
    button.disabled = true;
    fill(status, 'Checking the key…');
    try {
      // Any signed read proves the pair; the quota call is cheap and every key may make it.
      await call(creds, productOf(creds).quota);
      saveCredentials(creds);
      navigate('#/overview');
    } catch (err) {
      fill(status, errorBox(err));
      button.disabled = false;
      form.querySelector('#signin-secret').select();
    }
  });
  return undefined;
}

document.getElementById('sign-out').addEventListener('click', () => {
  clearCredentials();
  navigate('#/signin');
});

productSelect.addEventListener('change', () => {
  const creds = loadCredentials();
  if (!creds) return;
  saveCredentials({ ...creds, product: productSelect.value });
  const r = parseRoute();
  // Task ids belong to one product; the list is the right place to land after a switch.
  navigate(r.name === 'task' ? '#/tasks' : location.hash || '#/overview');
});

window.addEventListener('hashchange', route);
route();
