import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { registerConsole } from '../../src/http/console/index.js';
import { startOrigin, type Origin } from '../edges/harness/origin.js';
import { rpc } from '../helpers/rpc.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { decodePng, launchChromium, openPage, shanghaiInput, signIn, until } from './harness.js';

/**
 * The web console end to end: a real refreshd with a worker on a simulated fleet, driven through
 * headless Debian Chromium. The console signs every call itself; nothing here talks to the API
 * on its behalf except to set up tasks for the filter tests.
 */
let server: TestServer;
let origin: Origin;
let browser: Browser;
const shots = mkdtempSync(join(tmpdir(), 'refreshd-console-shots-'));

before(async () => {
  browser = await launchChromium();
  origin = await startOrigin();
  server = await startTestServer({ engine: { simulatedNodes: 4, simulatedLatencyMs: [200, 1500], maxAttempts: 2, retryBaseMs: 50, pollMs: 100 } }, { worker: true });
  await server.addDomain('www.example.com');
  await server.addDomain('img.example.com');
  await server.addDomain('warm.example.com', 'cdn', origin.url);
  // A one-node group slow enough that the list is sure to see a task still running.
  await server.store.fleet.addNode({ name: 'slow-1', driver: 'simulated', address: 'simulated/slow', group: 'slow', area: 'domestic', enabled: true, options: { latencyMs: [3000, 3500], concurrency: 8 }, createdAt: 0 });
  await server.store.domains.addDomain({ name: 'slow.example.com', accountId: server.accountId, product: 'cdn', origin: null, online: true, nodeGroup: 'slow', createdAt: Date.now() });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await origin?.close();
});

async function settled(taskId: string): Promise<void> {
  await until(`task ${taskId} to finish`, async () => {
    const rows = (await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: taskId })).json.Tasks as { Status: string }[];
    return rows.length > 0 && rows.every((r) => r.Status === 'Complete' || r.Status === 'Failed');
  });
}

const rowsOf = (page: Page) => page.locator('table.tasks tbody tr');

describe('console assets', () => {
  it('serves the page under /console with a strict CSP and nothing outside its allow-list', async () => {
    const redirect = await fetch(`${server.url}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/console/');
    const index = await fetch(`${server.url}/console/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self'.*connect-src 'self'/);
    assert.match(await index.text(), /<script type="module" src="app.js">/);
    const js = await fetch(`${server.url}/console/api.js`);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    const again = await fetch(`${server.url}/console/api.js`, { headers: { 'if-none-match': js.headers.get('etag') ?? '' } });
    assert.equal(again.status, 304);
    for (const path of ['/console/nope.js', '/console/..%2Fpackage.json', '/console/index.ts']) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
    }
    assert.equal((await rpc(server.url, 'DescribeRefreshQuota')).status, 200, 'the RPC endpoint is untouched');
  });

  it('registerConsole is idempotent', async () => {
    const app = Fastify();
    registerConsole(app);
    registerConsole(app);
    const res = await app.inject({ method: 'GET', url: '/console/app.js' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /hashchange/);
    await app.close();
  });
});

describe('console in Chromium', () => {
  it('refuses a wrong secret with SignatureDoesNotMatch and keeps nothing', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url, 'not-the-secret');
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false, 'no account controls while signed out');
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Specified signature is not matched with our calculation\.\s*SignatureDoesNotMatch/);
    assert.match(await alert.innerText(), /Check the AccessKey secret/);
    assert.match(await alert.locator('details').innerText(), /string to sign/, 'the server’s string to sign is kept as a detail');
    await page.screenshot({ path: join(shots, 'signin-error.png') });
    assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);

    await page.getByLabel('AccessKey ID').fill('LTAINoSuchKey');
    await page.getByLabel('AccessKey secret').fill(ACCESS_KEY_SECRET);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'InvalidAccessKeyId.NotFound' }).waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('signs in, shows quotas, submits a refresh and follows it to every node Applied', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const stored = await page.evaluate(() => ({ session: { ...sessionStorage }, local: localStorage.length, cookies: document.cookie }));
    assert.equal(stored.local, 0, 'nothing in localStorage');
    assert.equal(stored.cookies, '');
    assert.deepEqual(Object.values(stored.session).map((v) => JSON.parse(v as string)), [{ id: ACCESS_KEY_ID, secret: ACCESS_KEY_SECRET, product: 'cdn' }]);

    const urlQuota = page.locator('li[data-quota=Url]');
    await urlQuota.filter({ hasText: '10,000 left of 10,000' }).waitFor();
    assert.match(await page.locator('.quota-list').innerText(), /Directory refresh\s*100 left of 100/);
    await page.screenshot({ path: join(shots, 'overview.png') });

    await page.getByLabel('URLs, one per line').fill('http://www.example.com/index.html\nhttp://www.example.com/app.css\n');
    await page.getByRole('button', { name: 'Submit refresh' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'accepted' });
    await notice.waitFor();
    assert.match(await notice.innerText(), /Refresh of 2 paths accepted as task \d+/);
    const taskId = (await notice.getByRole('link').first().innerText()).trim();
    await urlQuota.filter({ hasText: '9,998 left of 10,000' }).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
    await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor();
    const ours = page.locator(`table.tasks tbody tr[data-task-id="${taskId}"]`);
    await until('both rows Complete at 100%', async () => {
      const bars = await ours.getByRole('progressbar').evaluateAll((els) => els.map((e) => e.getAttribute('aria-valuenow')));
      const states = await ours.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.status));
      return bars.length === 2 && bars.every((v) => v === '100') && states.every((s) => s === 'Complete');
    });
    assert.match(await ours.first().innerText(), /Complete[\s\S]*100%/);
    await page.screenshot({ path: join(shots, 'tasks.png') });

    await ours.first().getByRole('link', { name: taskId }).click();
    await page.getByRole('heading', { name: `Task ${taskId}`, level: 1 }).waitFor();
    await page.getByText('8 of 8 applied').waitFor();
    const items = page.locator('section.item');
    assert.equal(await items.count(), 2);
    for (const path of ['http://www.example.com/index.html', 'http://www.example.com/app.css']) {
      const item = page.locator(`section.item[data-path="${path}"]`);
      assert.equal(await item.getAttribute('data-status'), 'Complete');
      const nodes = await item.locator('tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({ node: (tr as HTMLElement).dataset.node, state: (tr as HTMLElement).dataset.state, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim()) })));
      assert.deepEqual(nodes.map((n) => n.node).sort(), ['sim-1', 'sim-2', 'sim-3', 'sim-4']);
      for (const n of nodes) {
        assert.equal(n.state, 'Applied');
        assert.equal(n.cells[4], 'Ack', 'a simulated node is taken at its word');
        assert.equal(n.cells[5], '1', 'one attempt');
        assert.equal(n.cells[6], '—', 'no error');
        assert.match(n.cells[7] ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} GMT\+8$/, 'applied time in local time, with its zone');
      }
    }
    await page.screenshot({ path: join(shots, 'task.png'), fullPage: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await page.goto(`${server.url}/console/#/tasks`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('updates progress live while a task runs, without a reload', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://slow.example.com/big.bin' })).json.RefreshTaskId as string;
    await page.goto(`${server.url}/console/#/tasks?domain=slow.example.com&type=file`);
    const row = page.locator(`tr[data-task-id="${id}"]`);
    await row.waitFor();
    assert.notEqual(await row.getAttribute('data-status'), 'Complete');
    await page.getByText('Live: updating every 2 s').waitFor();
    await page.screenshot({ path: join(shots, 'tasks-live.png') });
    await page.locator(`tr[data-task-id="${id}"][data-status="Complete"]`).waitFor({ timeout: 15_000 });
    assert.equal(await row.getByRole('progressbar').getAttribute('aria-valuenow'), '100');
    await page.getByText('Live: updating every 2 s').waitFor({ state: 'hidden' });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('cancels a running task from its page, after asking, and shows each node canceled', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://slow.example.com/c1.js\nhttp://slow.example.com/c2.js\nhttp://slow.example.com/c3.js' })).json.RefreshTaskId as string;
    await page.goto(`${server.url}/console/#/task/${id}`);
    const ask = page.getByRole('button', { name: 'Cancel task…' });
    await ask.waitFor();
    await ask.click();
    await page.getByText('Cancel this task? Nodes that have not done it yet are dropped; what they did stays.').waitFor();
    await page.getByRole('button', { name: 'Keep running' }).click();
    await ask.waitFor();
    assert.equal(await page.locator('section.item[data-status="Failed"]').count(), 0, 'nothing canceled by asking');
    await ask.click();
    await page.screenshot({ path: join(shots, 'task-cancel-confirm.png') });
    await page.getByRole('button', { name: 'Yes, cancel' }).click();
    await page.getByRole('status').filter({ hasText: 'Canceled: 3 node attempts dropped; 0 already applied stay.' }).waitFor();
    await page.locator('section.item[data-status="Failed"]').nth(2).waitFor();
    for (const text of await page.locator('section.item tbody tr').allInnerTexts()) assert.match(text, /slow-1\s+simulated\s+slow\s+Failed\s+—\s+0\s+canceled/);
    assert.match(await page.locator('section.item').first().innerText(), /· Canceled/);
    await ask.waitFor({ state: 'hidden' });
    await page.screenshot({ path: join(shots, 'task-canceled.png') });
    // A task that has finished has nothing to cancel.
    await page.goto(`${server.url}/console/#/tasks`);
    await page.goto(`${server.url}/console/#/task/${id}`);
    await page.locator('section.item[data-status="Failed"]').first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel task…' }).isVisible(), false);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('shows a failed preload with each node’s error on the task page', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByLabel('Preload (warm)').check();
    await page.getByLabel('Area').selectOption('overseas');
    await page.getByLabel('URLs, one per line').fill('http://warm.example.com/status/503/broken.js');
    await page.getByRole('button', { name: 'Submit preload' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Preload of 1 path accepted' });
    await notice.getByRole('link').first().click();
    await page.locator('section.item[data-status="Failed"]').waitFor();
    const nodes = page.locator('section.item tbody tr');
    assert.equal(await nodes.count(), 2, 'only the overseas half of the fleet');
    for (const text of await nodes.allInnerTexts()) assert.match(text, /Failed[\s\S]*origin http:\/\/127\.0\.0\.1:\d+\/status\/503\/broken\.js answered 503/);
    assert.match(await page.locator('section.item').innerText(), /Origin Return StatusCode 5XX/);
    // DescribePreloadDetailById beside the nodes: the URL warmed nowhere, and why.
    const detail = page.getByRole('region', { name: 'Preload detail' });
    await detail.locator('tr[data-url="http://warm.example.com/status/503/broken.js"]').waitFor();
    assert.match(await detail.innerText(), /Failed 0% · RetCode 1 · ended \d{4}-[\s\S]*broken\.js\s+0%\s+Origin Return StatusCode 5XX/);
    await page.screenshot({ path: join(shots, 'task-failed.png') });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('purges then preloads from the checkbox, showing each node’s phase; asks for manifest expansion from its checkbox', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByLabel('Refresh (purge)').check();
    await page.getByLabel('URLs, one per line').fill('http://warm.example.com/ptw/console.js');
    await page.getByRole('checkbox', { name: /Then preload/ }).check();
    await page.getByRole('button', { name: 'Submit refresh' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Refresh of 1 path accepted' });
    await notice.getByRole('link').first().click();
    await page.locator('section.item[data-status="Complete"]').waitFor({ timeout: 20_000 });
    const nodes = page.locator('section.item tbody tr');
    assert.equal(await nodes.count(), 4);
    for (const text of await nodes.allInnerTexts()) assert.match(text, /Applied\s+preload · purged \d{2}:\d{2}:\d{2}/);
    assert.equal(origin.hits.get('/ptw/console.js'), 4, 'warmed once per node');

    await page.goto(`${server.url}/console/#/`);
    await page.getByLabel('Preload (warm)').check();
    await page.getByLabel('URLs, one per line').fill('http://warm.example.com/ptw/index.m3u8');
    await page.getByRole('checkbox', { name: /Expand manifests/ }).check();
    await page.getByRole('button', { name: 'Submit preload' }).click();
    await page.getByRole('alert').filter({ hasText: 'InvalidManifest.Malformed' }).waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('purges by cache tag from the submit form, and shows the tag rows', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByLabel('Purge by cache tag').check();
    await page.getByRole('button', { name: 'Purge by tag' }).click();
    await page.getByRole('alert').filter({ hasText: 'Enter at least one cache tag' }).waitFor();
    await page.getByLabel('Cache tags, one per line').fill('summer-sale\nproduct-9');
    await page.getByLabel('Domain', { exact: true }).fill('www.example.com');
    // A sample URL off the domain is refused with the reason; one on it is sent as VerifyUrl.
    const samples = page.getByLabel('Tagged sample URLs to verify (optional)', { exact: true });
    await samples.fill('http://img.example.com/p/9.jpg');
    await page.getByRole('button', { name: 'Purge by tag' }).click();
    assert.match(await page.getByRole('alert').filter({ hasText: 'VerifyUrl' }).innerText(), /img\.example\.com\/p\/9\.jpg is not on a domain of this call\.\s*InvalidParameter/);
    await samples.fill('http://www.example.com/p/9.html\n');
    await page.getByRole('button', { name: 'Purge by tag' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Purge of 2 tags accepted as task' });
    const tagTask = (await notice.getByRole('link').first().innerText()).trim();
    assert.equal((server.store.raw.prepare('SELECT verify_urls FROM tasks WHERE id = ?').get(Number(tagTask)) as { verify_urls: string }).verify_urls, 'http://www.example.com/p/9.html');
    assert.equal(await samples.inputValue(), '', 'cleared with the tags once accepted');
    await notice.getByRole('link').first().click();
    await page.locator('section.item[data-path="summer-sale"]').waitFor();
    assert.match(await page.locator('section.item[data-path="product-9"]').innerText(), /cachetag/);
    assert.equal(await page.getByRole('region', { name: 'Preload detail' }).count(), 0, 'no preload detail for a refresh');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('filters by type, status, domain and time, pages, and explains the API’s filter rules', async () => {
    const many = Array.from({ length: 12 }, (_, i) => `http://img.example.com/p/${i}.jpg`).join('\n');
    const fileId = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: many })).json.RefreshTaskId as string;
    const dirId = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://www.example.com/static/', ObjectType: 'Directory' })).json.RefreshTaskId as string;
    await settled(fileId);
    await settled(dirId);

    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.goto(`${server.url}/console/#/tasks`);
    await rowsOf(page).first().waitFor();

    // Status without a type: the API would refuse it, so the form says why first.
    await page.getByLabel('Status', { exact: true }).selectOption('Complete');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('alert').filter({ hasText: 'Choose a type as well' }).waitFor();
    assert.equal(await page.getByLabel('Type', { exact: true }).getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Type', { exact: true }).selectOption('directory');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/#\/tasks\?type=directory&status=Complete$/);
    await page.locator(`tr[data-task-id="${dirId}"]`).waitFor();
    const dirRows = await rowsOf(page).evaluateAll((trs) => trs.map((tr) => [tr.children[2].textContent, (tr as HTMLElement).dataset.status]));
    assert.deepEqual(dirRows, [['directory', 'Complete']]);

    // Domain + type, 10 a page: the 12 image URLs over two pages.
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForURL(/#\/tasks$/);
    // The URL changes before the page is drawn again: wait for the new, empty form, or what is
    // typed next lands in the old one.
    await until('the cleared form', async () => (await page.getByLabel('Status', { exact: true }).inputValue()) === '');
    await page.getByLabel('Domain', { exact: true }).fill('img.example.com');
    await page.getByLabel('Type', { exact: true }).selectOption('file');
    await page.getByLabel('Per page', { exact: true }).selectOption('10');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('1–10 of 12 task rows').waitFor();
    assert.equal(await rowsOf(page).count(), 10);
    assert.ok((await rowsOf(page).locator('td.path').allInnerTexts()).every((p) => p.startsWith('http://img.example.com/')));
    await page.getByText('Page 1 of 2').waitFor();
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByText('11–12 of 12 task rows').waitFor();
    assert.equal(await rowsOf(page).count(), 2);
    assert.equal(await page.getByRole('button', { name: 'Next →' }).isDisabled(), true);

    // A time range around now (entered in local time, sent as UTC) keeps the rows; one before them empties the list.
    await page.getByLabel('From (local time)').fill(shanghaiInput(Date.now() - 3600_000));
    await page.getByLabel('To (local time)').fill(shanghaiInput(Date.now() + 60_000));
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('1–10 of 12 task rows').waitFor();
    const start = new URL(page.url().replace('#/tasks?', 'x:/?')).searchParams.get('start') ?? '';
    assert.ok(Math.abs(Date.parse(start) - (Date.now() - 3600_000)) < 120_000, `start ${start} is UTC`);
    await page.getByLabel('From (local time)').fill(shanghaiInput(Date.now() - 2 * 86400_000));
    await page.getByLabel('To (local time)').fill(shanghaiInput(Date.now() - 86400_000));
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No tasks match these filters in the last 3 days.').waitFor();

    // Outside the 3-day window the API itself refuses, and its code is shown.
    await page.getByLabel('From (local time)').fill(shanghaiInput(Date.now() - 5 * 86400_000));
    await page.getByLabel('To (local time)').fill(shanghaiInput(Date.now() - 4 * 86400_000));
    await page.getByRole('button', { name: 'Apply' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'InvalidTime' });
    await refused.waitFor();
    assert.match(await refused.innerText(), /The query time cannot exceed the last 3 days\.\s*InvalidTime/);
    await page.screenshot({ path: join(shots, 'tasks-refused.png') });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('switches to VOD: its quotas, its list action and its page-size limit', async () => {
    const { context, page, problems } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByLabel('Product').selectOption('vod');
    await page.getByText('VOD refresh and preload, API version 2017-03-21.').waitFor();
    await page.locator('li[data-quota=Url]').filter({ hasText: '2,000 left of 2,000' }).waitFor();
    assert.deepEqual(await page.locator('li.quota').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.quota)), ['Url', 'Dir', 'Preload']);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
    await page.getByText('No tasks match these filters in the last 3 days.').waitFor();
    assert.deepEqual(await page.getByLabel('Per page', { exact: true }).locator('option').allInnerTexts(), ['10', '20', '50']);
    assert.equal(JSON.parse(await page.evaluate(() => Object.values({ ...sessionStorage })[0] as string)).product, 'vod');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('fits its header on a 390 px phone screen, on one row', async () => {
    const { context, page, problems } = await openPage(browser);
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const header = await page.locator('header.topbar').evaluate((h) => {
      const inner = h.querySelector('.topbar-inner') as HTMLElement;
      const right = Math.max(...[...inner.querySelectorAll('a, select, button')].filter((e) => (e as HTMLElement).offsetParent).map((e) => e.getBoundingClientRect().right));
      return { scroll: inner.scrollWidth, width: inner.clientWidth, height: h.getBoundingClientRect().height, right };
    });
    assert.ok(header.scroll <= header.width, `the header overflows: ${header.scroll}px in ${header.width}px`);
    assert.ok(header.right <= 390, `a header control ends at ${header.right}px`);
    assert.ok(header.height <= 60, `the header wraps: ${header.height}px high`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('renders a real page: the screenshot is a 1280x800 PNG with content', async (t) => {
    const { context, page } = await openPage(browser);
    await signIn(page, server.url);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.goto(`${server.url}/console/#/tasks`);
    await rowsOf(page).first().waitFor();
    await page.locator('tr[data-status="Pending"], tr[data-status="Refreshing"]').first().waitFor({ state: 'detached' });
    const png = await page.screenshot();
    const file = join(shots, 'console-tasks.png');
    writeFileSync(file, png);
    t.diagnostic(`screenshots in ${shots}`);
    assert.ok(png.length > 10_000, `PNG is ${png.length} bytes`);
    const img = decodePng(png);
    assert.equal(img.width, 1280);
    assert.equal(img.height, 800);
    assert.ok(img.colours > 50, `${img.colours} colours`);
    assert.ok(img.dominantShare < 0.9, `the most common colour covers ${(img.dominantShare * 100).toFixed(1)}%`);
    await context.close();
  });
});
