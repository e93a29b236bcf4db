import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyWebhook } from '../../src/webhooks/event.js';
import { rpc } from '../helpers/rpc.js';
import { adminCli } from '../helpers/admin-cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startReceiver, until, type Receiver } from './receiver.js';

/**
 * `refreshd webhook set|show|remove|deliveries` against the data dir of a running server with
 * its worker: what the commands set is used by the server's notifier, the secret is printed once.
 */
let server: TestServer;
let receiver: Receiver;

before(async () => {
  receiver = await startReceiver();
  server = await startTestServer(
    { engine: { simulatedNodes: 2, simulatedLatencyMs: [5, 20], pollMs: 50 }, webhooks: { pollMs: 50 } },
    { worker: true },
  );
  await server.addDomain('hooked.example.com');
});
after(async () => {
  await server.close();
  await receiver.close();
});

const { ok, fails } = adminCli(() => server.dataDir);

describe('refreshd webhook', () => {
  let secret: string;

  it('set validates the URL and prints the signing secret once; show never prints it', () => {
    fails(/http:\/\/ or https:\/\/, not ftp:/, 'webhook', 'set', 'ftp://example.com/x');
    fails(/not a URL/, 'webhook', 'set', 'example.com/hook');
    fails(/may not carry credentials/, 'webhook', 'set', 'https://user:pw@example.com/hook');
    fails(/has no webhook/, 'webhook', 'show');
    const out = ok('webhook', 'set', `${receiver.url}/hook?source=refreshd`);
    const m = /Secret: ([0-9a-f]{64})\n/.exec(out);
    assert.ok(m, out);
    secret = m[1];
    const shown = JSON.parse(ok('webhook', 'show', '--json'));
    assert.deepEqual([shown.account, shown.url], ['root', `${receiver.url}/hook?source=refreshd`]);
    assert.ok(!ok('webhook', 'show').includes(secret));
    fails(/no account nobody/, 'webhook', 'show', '--account', 'nobody');
  });

  it('the server signs with the printed secret; deliveries lists the delivery', async () => {
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://hooked.example.com/x.css' })).json.RefreshTaskId as string;
    const got = await receiver.waitFor((r) => r.json?.TaskId === id);
    assert.equal(got.path, '/hook?source=refreshd');
    assert.ok(verifyWebhook(secret, got.body, got.headers['x-refreshd-signature'] as string));
    const rows = await until(async () => {
      const list = JSON.parse(ok('webhook', 'deliveries', '--json'));
      return list[0]?.state === 'delivered' && list;
    }, 'the delivery to be listed as delivered');
    assert.deepEqual([rows.length, rows[0].taskId, rows[0].event, rows[0].attempts, rows[0].lastError], [1, id, 'TaskFinished', 1, null]);
    assert.equal(String(rows[0].id), got.headers['x-refreshd-delivery']);
    assert.match(ok('webhook', 'deliveries'), new RegExp(`^${rows[0].id}\\tTaskFinished\\t${id}\\tdelivered\\tattempts=1\\t`));
    fails(/--limit is a whole number/, 'webhook', 'deliveries', '--limit', '0');
  });

  it('set again replaces the secret; remove stops the events', async () => {
    const again = /Secret: ([0-9a-f]{64})/.exec(ok('webhook', 'set', `${receiver.url}/hook2`))![1];
    assert.notEqual(again, secret);
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://hooked.example.com/y.css' })).json.RefreshTaskId as string;
    const got = await receiver.waitFor((r) => r.json?.TaskId === id);
    assert.ok(verifyWebhook(again, got.body, got.headers['x-refreshd-signature'] as string));
    assert.ok(!verifyWebhook(secret, got.body, got.headers['x-refreshd-signature'] as string), 'the old secret no longer signs');

    assert.match(ok('webhook', 'remove'), /webhook of account root removed/);
    fails(/has no webhook/, 'webhook', 'remove');
    const quiet = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://hooked.example.com/z.css' })).json.RefreshTaskId as string;
    await until(async () => {
      const row = server.store.raw.prepare('SELECT finished_at FROM tasks WHERE id = ?').get(Number(quiet)) as { finished_at: number | null };
      return row.finished_at !== null;
    }, 'the task to finish');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!receiver.requests.some((r) => r.json?.TaskId === quiet));
    assert.equal(JSON.parse(ok('webhook', 'deliveries', '--json')).length, 2, 'no delivery for a task finished without a webhook');
  });
});
