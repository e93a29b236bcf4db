import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeLogger } from '../../src/app.js';
import { addAccount } from '../../src/identity/admin.js';
import type { Account } from '../../src/store/port.js';
import { setWebhook } from '../../src/webhooks/admin.js';
import { verifyWebhook } from '../../src/webhooks/event.js';
import { startOrigin, type Origin } from '../edges/harness/origin.js';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startReceiver, until, type Receiver } from './receiver.js';

/**
 * Webhooks end to end: a real server with its worker and notifier on a simulated fleet of three
 * nodes, tasks submitted through the API by accounts with and without a webhook, and receivers
 * on 127.0.0.1 that answer 200, answer 500 twice, or are not there at all.
 */
let server: TestServer;
let origin: Origin;
let receiver: Receiver;
const logs: string[] = [];
const secrets: string[] = [];

before(async () => {
  origin = await startOrigin();
  // 500 for the first two attempts of anything sent to /flaky, 200 otherwise.
  receiver = await startReceiver((r, all) => (r.path === '/flaky' && all.filter((x) => x.path === '/flaky').length <= 2 ? 500 : 200));
  server = await startTestServer(
    {
      engine: { simulatedNodes: 3, simulatedLatencyMs: [5, 30], retryBaseMs: 20, maxAttempts: 2, pollMs: 50, requestTimeoutMs: 1000 },
      webhooks: { pollMs: 50, retryBaseMs: 50, retryMaxMs: 200, maxAttempts: 3, timeoutMs: 2000, leaseMs: 5000 },
    },
    { worker: true, logger: makeLogger('debug', { write: (line: string) => void logs.push(line) }) },
  );
});
after(async () => {
  await server.close();
  await receiver.close();
  await origin.close();
});

/** A new account with a domain on the origin, and (unless `path` is null) a webhook. */
async function tenant(name: string, path: string | null, url = receiver.url + path) {
  const { account, key } = await addAccount(server.store, server.vault, name);
  const domain = `${name}.example.com`;
  await server.store.domains.addDomain({ name: domain, accountId: account.id, product: 'cdn', origin: origin.url, online: true, nodeGroup: 'default', createdAt: Date.now() });
  let secret = '';
  if (path !== null) {
    secret = (await setWebhook(server.store, server.vault, account, url)).secret;
    secrets.push(secret);
  }
  const call = (action: string, params: Record<string, string>) => rpc(server.url, action, params, { accessKeyId: key.accessKeyId, secret: key.secret });
  return { account, domain, secret, call };
}

const forTask = (id: string) => (r: { json: any }) => r.json?.TaskId === id;
const deliveries = (account: Account) => server.store.outbox.listDeliveries(account.id, 100);

describe('webhooks', () => {
  it('a finished task delivers one signed TaskFinished payload with a per-node summary', async () => {
    const t = await tenant('acme', '/acme');
    const res = await t.call('RefreshObjectCaches', { ObjectPath: `http://${t.domain}/a.css\nhttp://${t.domain}/b.css` });
    const id = res.json.RefreshTaskId as string;
    const got = await receiver.waitFor(forTask(id));
    assert.equal(got.path, '/acme');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['x-refreshd-event'], 'TaskFinished');
    assert.ok(verifyWebhook(t.secret, got.body, got.headers['x-refreshd-signature'] as string), 'signed with the secret setWebhook returned');
    assert.ok(!verifyWebhook(secrets[0] + 'x', got.body, got.headers['x-refreshd-signature'] as string));
    const p = got.json;
    assert.equal(got.headers['x-refreshd-delivery'], p.DeliveryId);
    assert.deepEqual(
      [p.Event, p.TaskId, p.Product, p.AccountId, p.DomainName, p.Status],
      ['TaskFinished', id, 'cdn', t.account.uid, t.domain, 'Complete'],
    );
    assert.match(p.CreationTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(p.FinishedTime >= p.CreationTime);
    assert.deepEqual(p.Items.map((i: any) => [i.ObjectPath, i.ObjectType, i.Status, i.Process, i.Description]), [
      [`http://${t.domain}/a.css`, 'file', 'Complete', '100%', ''],
      [`http://${t.domain}/b.css`, 'file', 'Complete', '100%', ''],
    ]);
    for (const i of p.Items) assert.deepEqual(i.Nodes, { Applied: 3, Failed: 0, Pending: 0, FailedNodes: [] });
    // The notifier marks the delivery once the receiver's 200 is back: after the receiver saw the
    // request, so wait for that write rather than assume it is done after a fixed pause.
    const [d] = await until(async () => {
      const rows = await deliveries(t.account);
      return rows[0]?.state !== 'pending' && rows;
    }, 'the delivery to be marked');
    // Exactly one: give the notifier a few more rounds to send a duplicate if it were going to.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(receiver.requests.filter(forTask(id)).length, 1);
    assert.deepEqual([d.taskId, d.state, d.attempts, d.lastError, String(d.id)], [id, 'delivered', 1, null, p.DeliveryId]);
    assert.ok(d.deliveredAt !== null);
  });

  it('a preload whose origin answers 5xx is reported Failed, with each node’s error', async () => {
    const t = await tenant('preloader', '/preloader');
    const ok = (await t.call('PushObjectCache', { ObjectPath: `${t.domain}/fine.js` })).json.PushTaskId as string;
    const bad = (await t.call('PushObjectCache', { ObjectPath: `${t.domain}/status/503/x.js` })).json.PushTaskId as string;
    assert.equal((await receiver.waitFor(forTask(ok))).json.Status, 'Complete');
    const p = (await receiver.waitFor(forTask(bad))).json;
    assert.equal(p.Status, 'Failed');
    const [item] = p.Items;
    assert.deepEqual([item.ObjectType, item.Status, item.Description], ['preload', 'Failed', 'Origin Return StatusCode 5XX']);
    assert.equal(item.Nodes.Applied, 0);
    assert.equal(item.Nodes.Failed + item.Nodes.Pending, 3, 'the item fails with its first node; others may still be at work');
    assert.ok(item.Nodes.Failed >= 1);
    assert.equal(item.Nodes.FailedNodes.length, item.Nodes.Failed);
    for (const n of item.Nodes.FailedNodes) {
      assert.match(n.Node, /^sim-\d$/);
      assert.equal(n.Attempts, 1);
      assert.match(n.Error, /answered 503/);
    }
  });

  it('a receiver that answers 500 twice gets a third attempt, and the delivery is delivered', async () => {
    const t = await tenant('flaky', '/flaky');
    const id = (await t.call('RefreshObjectCaches', { ObjectPath: `http://${t.domain}/f` })).json.RefreshTaskId as string;
    const [d] = await until(async () => {
      const rows = await deliveries(t.account);
      return rows[0]?.state === 'delivered' && rows;
    }, 'the flaky delivery to be delivered');
    assert.deepEqual([d.taskId, d.attempts, d.lastError], [id, 3, null]);
    const sent = receiver.requests.filter((r) => r.path === '/flaky');
    assert.equal(sent.length, 3);
    assert.ok(sent.every((r) => r.headers['x-refreshd-delivery'] === String(d.id) && r.body === sent[0].body), 'the same delivery, the same body');
    assert.ok(sent.every((r) => verifyWebhook(t.secret, r.body, r.headers['x-refreshd-signature'] as string)), 'each attempt signed');
  });

  it('a receiver that is down is retried, then the delivery fails after maxAttempts', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const t = await tenant('down', '/', `http://127.0.0.1:${closed}/hook`);
    const id = (await t.call('RefreshObjectCaches', { ObjectPath: `http://${t.domain}/d` })).json.RefreshTaskId as string;
    const [d] = await until(async () => {
      const rows = await deliveries(t.account);
      return rows[0]?.state === 'failed' && rows;
    }, 'the delivery to a closed port to fail');
    assert.equal(d.taskId, id);
    assert.equal(d.attempts, 3);
    assert.match(d.lastError ?? '', /^gave up after 3 attempts: ECONNREFUSED/);
  });

  it('an account without a webhook gets no delivery rows, though its tasks finish', async () => {
    const t = await tenant('quiet', null);
    const id = (await t.call('RefreshObjectCaches', { ObjectPath: `http://${t.domain}/q` })).json.RefreshTaskId as string;
    await until(async () => {
      const row = server.store.raw.prepare('SELECT finished_at FROM tasks WHERE id = ?').get(Number(id)) as { finished_at: number | null };
      return row.finished_at !== null;
    }, 'the task to be marked finished');
    assert.deepEqual(await deliveries(t.account), []);
    const { n } = server.store.raw.prepare('SELECT count(*) AS n FROM webhook_deliveries WHERE account_id = ?').get(t.account.id) as { n: number };
    assert.equal(n, 0);
    assert.ok(!receiver.requests.some(forTask(id)));
  });

  it('no signing secret reaches the logs or the database files', async () => {
    assert.ok(logs.some((l) => l.includes('webhook delivery failed')), 'the failures above were logged');
    assert.ok(logs.some((l) => l.includes('webhook delivered')));
    const text = logs.join('');
    for (const s of secrets) assert.ok(!text.includes(s), 'secret in the logs');
    for (const f of readdirSync(server.dataDir).filter((x) => x.startsWith('refreshd.db'))) {
      const bytes = readFileSync(join(server.dataDir, f)).toString('latin1');
      for (const s of secrets) assert.ok(!bytes.includes(s), `secret in ${f}`);
    }
  });
});
