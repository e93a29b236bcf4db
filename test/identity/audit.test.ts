import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { makeLogger, startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { addAccount, addKey, addPolicy, addUser, attachPolicy } from '../../src/identity/admin.js';
import type { AuditRecord } from '../../src/store/port.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { Cdn, cdnClient, popClient, popRequest } from '../helpers/clients.js';
import { rpc, type RpcResult } from '../helpers/rpc.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The audit log: every API call is in it once, with who, from where, what and what came of it;
 * no secret, Signature or SecurityToken ever reaches it — nor the server's logs, nor an answer;
 * it outlives the task window and is swept by auditRetentionDays; `refreshd audit` reads it.
 */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'refreshd.js');
let server: TestServer;
let logs = '';
const secrets: string[] = [ACCESS_KEY_SECRET];
const creds: Record<string, { id: string; secret: string }> = {};

before(async () => {
  const sink = new Writable({ write: (chunk, _enc, done) => ((logs += chunk), done()) });
  server = await startTestServer({}, { logger: makeLogger('trace', sink) });
  await server.addDomain('example.com');
  await server.addDomain('v.example.com', 'vod');
  const account = (await server.store.identity.getAccount(server.accountId))!;
  await addUser(server.store, account, 'ops');
  await addPolicy(server.store, account, 'ops', JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'cdn:Describe*', Resource: '*' }] }));
  await attachPolicy(server.store, account, 'ops', 'ops');
  const ops = await addKey(server.store, server.vault, account, 'ops');
  const other = await addAccount(server.store, server.vault, 'tenant-2');
  creds.ops = { id: ops.accessKeyId, secret: ops.secret };
  creds.other = { id: other.key.accessKeyId, secret: other.key.secret };
  secrets.push(ops.secret, other.key.secret);
});
after(() => server.close());

interface Expect {
  requestId: string;
  accessKeyId: string | null;
  accountId: number | null;
  userName: string | null;
  action: string | null;
  status: number;
  code: string | null;
}
const made: Expect[] = [];
const answers: string[] = [];

/** Make a call, remember what the audit log must say about it. */
async function call(res: Promise<RpcResult>, e: Omit<Expect, 'requestId'>): Promise<RpcResult> {
  const r = await res;
  answers.push(r.text);
  made.push({ requestId: r.headers.get('x-acs-request-id')!, ...e });
  return r;
}

describe('the audit log', () => {
  it('has every call once, with account, user, key, source IP, action, parameters and result', async () => {
    const root = { accessKeyId: ACCESS_KEY_ID, accountId: server.accountId, userName: null };
    const ops = { accessKeyId: creds.ops.id, accountId: server.accountId, userName: 'ops' };
    await call(rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/a\nexample.com/b' }), { ...root, action: 'RefreshObjectCaches', status: 200, code: null });
    await call(rpc(server.url, 'DescribeRefreshTasks', { PageSize: 0 }), { ...root, action: 'DescribeRefreshTasks', status: 400, code: 'InvalidParameter' });
    await call(rpc(server.url, 'DescribeVodRefreshQuota', {}, { version: '2017-03-21', method: 'POST' }), { ...root, action: 'DescribeVodRefreshQuota', status: 200, code: null });
    await call(rpc(server.url, 'DescribeRefreshQuota', {}, { accessKeyId: creds.ops.id, secret: creds.ops.secret }), { ...ops, action: 'DescribeRefreshQuota', status: 200, code: null });
    await call(rpc(server.url, 'PushObjectCache', { ObjectPath: 'example.com/p' }, { accessKeyId: creds.ops.id, secret: creds.ops.secret }), { ...ops, action: 'PushObjectCache', status: 403, code: 'Forbidden.RAM' });
    await call(rpc(server.url, 'DescribeRefreshQuota', {}, { secret: 'wrong' }), { ...root, action: 'DescribeRefreshQuota', status: 400, code: 'SignatureDoesNotMatch' });
    await call(rpc(server.url, 'DescribeRefreshQuota', {}, { accessKeyId: 'LTAIunknownKey' }), { accessKeyId: 'LTAIunknownKey', accountId: null, userName: null, action: 'DescribeRefreshQuota', status: 404, code: 'InvalidAccessKeyId.NotFound' });
    await call(rpc(server.url, 'NoSuchAction', {}), { ...root, action: 'NoSuchAction', status: 404, code: 'InvalidAction.NotFound' });
    const other = (await server.store.identity.findAccountByName('tenant-2'))!;
    await call(rpc(server.url, 'DescribeRefreshTasks', {}, { accessKeyId: creds.other.id, secret: creds.other.secret }), { accessKeyId: creds.other.id, accountId: other.id, userName: null, action: 'DescribeRefreshTasks', status: 200, code: null });
    // Through the official SDK (ACS3, action in a header) and pop-core.
    const sdk = await cdnClient(server.hostPort, 'v3').describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({}));
    made.push({ requestId: sdk.body.requestId, ...root, action: 'DescribeRefreshQuota', status: 200, code: null });
    const pop = await popRequest(popClient(server.url), 'DescribeRefreshTaskById', { TaskId: '17000000001' });
    made.push({ requestId: pop.RequestId, ...root, action: 'DescribeRefreshTaskById', status: 200, code: null });

    await server.flushAudit();
    const entries = await server.store.audit.queryAudit({ limit: 1000 });
    assert.equal(entries.length, made.length, 'one record per call, no more');
    for (const e of made) {
      const found = entries.filter((x) => x.requestId === e.requestId);
      assert.equal(found.length, 1, `exactly one record for ${e.requestId}`);
      const { requestId, accessKeyId, accountId, userName, action, status, code } = found[0];
      assert.deepEqual({ requestId, accessKeyId, accountId, userName, action, status, code }, e);
      assert.equal(found[0].sourceIp, '127.0.0.1');
      assert.ok(Date.now() - found[0].at < 60_000);
    }
    const first = entries.find((x) => x.requestId === made[0].requestId)!;
    assert.equal(first.product, 'cdn');
    const params = JSON.parse(first.params);
    assert.equal(params.ObjectPath, 'example.com/a\nexample.com/b');
    assert.equal(params.Action, 'RefreshObjectCaches');
    assert.ok(params.SignatureNonce && params.Timestamp, 'nonce and timestamp kept, for tracing a replay');
    assert.equal(params.Signature, undefined, 'never the Signature');
    assert.equal(entries.find((x) => x.requestId === made[2].requestId)!.product, 'vod');
  });

  it('never keeps a SecurityToken, a secret-named parameter, or the caller’s secret in any parameter', async () => {
    const res = await call(
      rpc(server.url, 'DescribeRefreshQuota', { SecurityToken: 'sts-token-value', AccessKeySecret: ACCESS_KEY_SECRET, Note: `oops ${ACCESS_KEY_SECRET} pasted`, Password: 'hunter2' }),
      { accessKeyId: ACCESS_KEY_ID, accountId: server.accountId, userName: null, action: 'DescribeRefreshQuota', status: 200, code: null },
    );
    assert.equal(res.status, 200);
    await server.flushAudit();
    const [entry] = (await server.store.audit.queryAudit({ limit: 1000 })).filter((e) => e.requestId === res.headers.get('x-acs-request-id'));
    assert.deepEqual(Object.keys(JSON.parse(entry.params)).filter((k) => /token|secret|password|signature$/i.test(k)), []);
    assert.equal(JSON.parse(entry.params).Note, 'oops *** pasted');
    assert.doesNotMatch(entry.params, /sts-token-value|hunter2/);
  });

  it('cuts long values so one call cannot make a huge row', async () => {
    const paths = Array.from({ length: 500 }, (_, i) => `http://example.com/${'x'.repeat(60)}/${i}`).join('\n');
    const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: paths }, { method: 'POST' });
    assert.equal(res.status, 200);
    made.push({ requestId: res.headers.get('x-acs-request-id')!, accessKeyId: ACCESS_KEY_ID, accountId: server.accountId, userName: null, action: 'RefreshObjectCaches', status: 200, code: null });
    await server.flushAudit();
    const [entry] = (await server.store.audit.queryAudit({ action: 'RefreshObjectCaches', limit: 1 }));
    assert.ok(entry.params.length < 20_000, `${entry.params.length} characters`);
    assert.match(JSON.parse(entry.params).ObjectPath, new RegExp(`…\\[${paths.length} chars\\]$`));
  });

  it('`refreshd audit` shows the calls, filtered by account, action and time', async () => {
    await server.flushAudit();
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, 'audit', '--data', server.dataDir, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const all = JSON.parse(cli('--json', '--limit', '1000'));
    assert.equal(all.length, made.length);
    assert.deepEqual(new Set(all.map((e: any) => e.requestId)), new Set(made.map((e) => e.requestId)));
    const tenant = JSON.parse(cli('--json', '--account', 'tenant-2'));
    assert.deepEqual(tenant.map((e: any) => [e.account, e.action, e.status]), [['tenant-2', 'DescribeRefreshTasks', 200]]);
    const refused = JSON.parse(cli('--json', '--action', 'PushObjectCache', '--since', '1h'));
    assert.deepEqual(refused.map((e: any) => [e.user, e.code]), [['ops', 'Forbidden.RAM']]);
    assert.deepEqual(JSON.parse(cli('--json', '--until', '2000-01-01T00:00:00Z')), []);
    const text = cli('--limit', '3');
    assert.equal(text.trim().split('\n').length, 3);
    assert.match(text, /^\d{4}-\d\d-\d\dT[\d:.]+Z\troot\t-\tLTAI\w+\t127\.0\.0\.1\tRefreshObjectCaches\t200\tOK\t[0-9A-F-]{36}$/m);
    const bad = spawnSync(process.execPath, [BIN, 'audit', '--data', server.dataDir, '--since', 'yesterday-ish'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /not a time/);
  });
});

describe('secrets', () => {
  it('never appear in the server log, the audit log, an answer, or the database files', async () => {
    // A few more error paths, including an internal error that is logged with its cause.
    answers.push((await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/z' }, { accessKeyId: creds.ops.id, secret: creds.other.secret })).text);
    answers.push((await rpc(server.url, 'DescribeRefreshQuota', {}, { timestamp: '2000-01-01T00:00:00Z' })).text);
    await server.addKey('LTAIcorruptedKey', 'corrupted-secret');
    secrets.push('corrupted-secret');
    server.store.raw.prepare("UPDATE access_keys SET secret_cipher = 'gcm1:' || substr(secret_cipher, 10) WHERE access_key_id = 'LTAIcorruptedKey'").run();
    const broken = await rpc(server.url, 'DescribeRefreshQuota', {}, { accessKeyId: 'LTAIcorruptedKey', secret: 'corrupted-secret' });
    assert.equal(broken.json.Code, 'InternalError');
    answers.push(broken.text);
    await server.flushAudit();

    assert.match(logs, /unexpected error while handling a request/, 'the internal error was logged');
    assert.match(logs, /"msg":"rpc"/, 'the calls were logged');
    const audit = JSON.stringify(await server.store.audit.queryAudit({ limit: 10_000 }));
    const files = readdirSync(server.dataDir).filter((f) => f.startsWith('refreshd.db')).map((f) => readFileSync(join(server.dataDir, f)));
    const cliOut = ['account list', 'key list', 'user list --json', 'policy list --json', 'audit --json --limit 10000']
      .map((c) => spawnSync(process.execPath, [BIN, ...c.split(' '), '--data', server.dataDir], { encoding: 'utf8' }))
      .map((r) => r.stdout + r.stderr)
      .join('\n');
    for (const [what, ok] of Object.entries({ answers: answers.length >= 12, audit: audit.length > 1000, logs: logs.length > 1000, cli: cliOut.length > 500 })) {
      assert.ok(ok, `there is something to search in the ${what}`);
    }
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), `secret ${secret} in the server log`);
      assert.ok(!audit.includes(secret), `secret ${secret} in the audit log`);
      for (const a of answers) assert.ok(!a.includes(secret), `secret ${secret} in an answer: ${a}`);
      for (const f of files) assert.equal(f.indexOf(secret), -1, `secret ${secret} in a database file`);
      assert.ok(!cliOut.includes(secret), `secret ${secret} in the output of an admin command`);
    }
  });
});

describe('audit retention', () => {
  it('outlives the task window and is swept after auditRetentionDays (default 30)', async () => {
    assert.equal(loadConfig().auditRetentionDays, 30);
    assert.throws(() => loadConfig({ auditRetentionDays: 0 }), /auditRetentionDays/);
    const dataDir = mkdtempSync(join(tmpdir(), 'refreshd-audit-'));
    const store = new SqliteStore(join(dataDir, 'refreshd.db'));
    try {
      const DAY = 86_400_000;
      const rec = (daysAgo: number): AuditRecord => ({
        at: Date.now() - daysAgo * DAY, requestId: `R-${daysAgo}`, accountId: null, userName: null, accessKeyId: null,
        sourceIp: '127.0.0.1', product: null, action: null, params: '{}', status: 404, code: 'InvalidAction.NotFound',
      });
      await store.audit.appendAudit([rec(45), rec(25), rec(5), rec(1)]);
      const running = await startServer(loadConfig({ dataDir, listen: { host: '127.0.0.1', port: 0 }, auditRetentionDays: 20 }), store, makeLogger('silent'), {}, false);
      try {
        const deadline = Date.now() + 5000;
        let left: string[] = [];
        while (Date.now() < deadline) {
          left = (await store.audit.queryAudit({ limit: 10 })).map((e) => e.requestId);
          if (left.length === 2) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.deepEqual(left, ['R-1', 'R-5'], 'older than 20 days swept at start; 5 days old (past the 3-day task window) kept');
      } finally {
        await running.stop();
      }
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
