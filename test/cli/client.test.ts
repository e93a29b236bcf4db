import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type Origin } from '../edges/harness/origin.js';
import { rpc } from '../helpers/rpc.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

/** The everyday CLI (refresh, preload, tasks, task, quota) against a running refreshd. */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'refreshd.js');
let server: TestServer;
let origin: Origin;
const home = mkdtempSync(join(tmpdir(), 'refreshd-home-'));

before(async () => {
  origin = await startOrigin();
  server = await startTestServer({ engine: { simulatedNodes: 3, simulatedLatencyMs: [20, 150], retryBaseMs: 20, pollMs: 50 } }, { worker: true });
  await server.addDomain('cli.example.com', 'cdn', origin.url);
  // One slow node of its own, so a task stays running long enough to be canceled.
  await server.store.fleet.addNode({ name: 'cli-slow', driver: 'simulated', address: 'simulated/cli-slow', group: 'slow', area: 'domestic', enabled: true, options: { latencyMs: [2000, 2000], concurrency: 1 }, createdAt: 0 });
  await server.store.domains.addDomain({ name: 'slow.example.com', accountId: server.accountId, product: 'cdn', origin: origin.url, online: true, nodeGroup: 'slow', createdAt: Date.now() });
});
after(async () => {
  await server.close();
  await origin.close();
  rmSync(home, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, HOME: home, REFRESHD_ENDPOINT: server.url, REFRESHD_ACCESS_KEY_ID: ACCESS_KEY_ID, REFRESHD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

describe('refreshd CLI as an API client', () => {
  it('refresh --wait follows the task to Complete and exits 0', async () => {
    const r = await cli(['refresh', 'http://cli.example.com/a.css', 'http://cli.example.com/b.css', '--wait']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /task \d{11}\s+\[#{24}\]\s+100%\s+Complete\s+2\/2 items/);
  });

  it('refresh --json prints the task ids for scripts', async () => {
    const r = await cli(['refresh', 'cli.example.com/dir/', '--type', 'directory', '--force', '--json']);
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(r.out);
    assert.match(json.TaskIds[0], /^\d{11}$/);
    assert.equal(json.RefreshTaskId, json.TaskIds[0]);
  });

  it('preload --wait exits non-zero and lists what failed, and why', async () => {
    const file = join(home, 'paths.txt');
    writeFileSync(file, 'cli.example.com/ok.js\ncli.example.com/status/502/bad.js\n');
    const r = await cli(['preload', '--file', file, '--wait']);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.out, /FAILED cli\.example\.com\/status\/502\/bad\.js on sim-\d: origin .* answered 502 \(Origin Return StatusCode 5XX\)/);
    assert.doesNotMatch(r.out, /ok\.js/);
  });

  it('tasks lists rows with filters; task shows every node', async () => {
    const list = await cli(['tasks', '--type', 'file', '--status', 'Complete', '--json']);
    assert.equal(list.code, 0, list.err);
    const rows = JSON.parse(list.out).Tasks.CDNTask;
    assert.ok(rows.length >= 2 && rows.every((t: any) => t.Status === 'Complete' && t.ObjectType === 'file'));
    const text = await cli(['tasks']);
    assert.match(text.out, /^TASK\s+STATUS\s+PROCESS\s+TYPE\s+CREATED\s+PATH$/m);
    const one = await cli(['task', rows[0].TaskId]);
    assert.equal(one.code, 0, one.err);
    const items = rows.filter((t: any) => t.TaskId === rows[0].TaskId).length;
    assert.equal((one.out.match(/sim-\d\s+Applied\s+Ack\s+1\s+\d{4}-/g) ?? []).length, 3 * items, one.out);
  });

  it('refresh --then-preload warms each URL on each node after its purge; task shows the phase', async () => {
    const r = await cli(['refresh', 'http://cli.example.com/ptw/a.js', '--then-preload', '--wait', '--json']);
    assert.equal(r.code, 0, r.err);
    const id = JSON.parse(r.out).tasks[0].taskId;
    assert.equal(origin.hits.get('/ptw/a.js'), 3, 'one preload per simulated node');
    const one = await cli(['task', id]);
    assert.equal((one.out.match(/sim-\d\s+Applied \(preload\)\s+Ack\s+1\s+\d{4}-/g) ?? []).length, 3, one.out);
    const dir = await cli(['refresh', 'cli.example.com/ptw/', '--type', 'directory', '--then-preload']);
    assert.equal(dir.code, 1);
    assert.equal(dir.err.trim(), 'refreshd: PreloadAfter=true is supported only with ObjectType File or IgnoreParams. (InvalidParameter.PreloadAfter)');
  });

  it('preload --expand-manifest asks for the expansion (a page that is no playlist is refused, with the reason)', async () => {
    const r = await cli(['preload', 'cli.example.com/hls/master.m3u8', '--expand-manifest']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^refreshd: The manifest is not an HLS playlist or DASH MPD that can be expanded; nothing was accepted\. http:\/\/cli\.example\.com\/hls\/master\.m3u8: not an HLS playlist \(no #EXTM3U first line\) \(InvalidManifest\.Malformed\)$/m);
  });

  it('refresh --tag purges by cache tag on one domain and follows it to Complete', async () => {
    const r = await cli(['refresh', '--tag', 'sale,new', '--domain', 'cli.example.com', '--wait']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /task \d{11}\s+\[#{24}\]\s+100%\s+Complete\s+2\/2 items/);
    const rows = JSON.parse((await cli(['tasks', '--type', 'cachetag', '--json'])).out).Tasks.CDNTask;
    assert.deepEqual(rows.map((t: any) => [t.ObjectPath, t.Status]).sort(), [['new', 'Complete'], ['sale', 'Complete']]);
    const alone = await cli(['refresh', '--tag', 'sale']);
    assert.equal(alone.code, 1);
    assert.equal(alone.err.trim(), 'refreshd: --tag and --domain go together');
  });

  it('refresh --verify-url sends sample URLs (repeatable) with a directory or tag purge; a sample out of scope is refused with the reason', async () => {
    const dir = await cli(['refresh', 'cli.example.com/vu/', '--type', 'directory', '--verify-url', 'http://cli.example.com/vu/a.png', '--verify-url', 'cli.example.com/vu/b/c.css', '--json']);
    assert.equal(dir.code, 0, dir.err);
    const tag = await cli(['refresh', '--tag', 'vu', '--domain', 'cli.example.com', '--verify-url', 'cli.example.com/p/1', '--json']);
    assert.equal(tag.code, 0, tag.err);
    const stored = (id: string) => (server.store.raw.prepare('SELECT verify_urls FROM tasks WHERE id = ?').get(Number(id)) as { verify_urls: string }).verify_urls;
    assert.equal(stored(JSON.parse(dir.out).TaskIds[0]), 'http://cli.example.com/vu/a.png\ncli.example.com/vu/b/c.css');
    assert.equal(stored(JSON.parse(tag.out).TaskIds[0]), 'cli.example.com/p/1');
    const bad = await cli(['refresh', 'cli.example.com/vu/', '--type', 'directory', '--verify-url', 'cli.example.com/elsewhere.png']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /InvalidParameter/);
    assert.match(bad.err, /cli\.example\.com\/elsewhere\.png is not under a directory of this call\./);
  });

  it('preload-detail shows each URL: the share of nodes that warmed it, or why not', async () => {
    const push = JSON.parse((await cli(['preload', 'cli.example.com/pd/ok.js', 'cli.example.com/status/503/pd.js', '--json'])).out);
    const id = push.TaskIds[0];
    assert.equal((await rpc(server.url, 'WaitForTasks', { TaskId: id, Timeout: 30 })).json.Done, true);
    const r = await cli(['preload-detail', id]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^task ${id}  cli\\.example\\.com  Failed 50%  ended \\d{4}-\\d{2}-\\d{2}T`, 'm'));
    assert.match(r.out, /^\s+URL\s+WARMED\s+DETAIL$/m);
    assert.match(r.out, /^\s+cli\.example\.com\/pd\/ok\.js\s+100%\s+Successfully preloaded$/m);
    assert.match(r.out, /^\s+cli\.example\.com\/status\/503\/pd\.js\s+0%\s+Origin Return StatusCode 5XX$/m);
    const json = JSON.parse((await cli(['preload-detail', id, '--json'])).out);
    assert.deepEqual([json.UrlDetails[0].RetCode, json.UrlDetails[0].Urls.length], ['1', 2]);
    const none = await cli(['preload-detail', '17000000001']);
    assert.match(none.out, /^no preload task 17000000001 in the last 3 days$/m);
  });

  it('quota prints what is left today', async () => {
    const r = await cli(['quota']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Url\s+\d+\s+10000$/m);
    assert.match(r.out, /^Preload\s+\d+\s+1000$/m);
  });

  it('errors read as sentences with the Alibaba code beside them', async () => {
    const r = await cli(['refresh', 'http://not-mine.example.net/x']);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim(), 'refreshd: The domain [not-mine.example.net] does not belong to you. (InvalidDomain.NotFound)');
    const bad = await cli(['quota'], { REFRESHD_ACCESS_KEY_SECRET: 'wrong' });
    assert.match(bad.err, /^refreshd: Specified signature is not matched with our calculation\..*\(SignatureDoesNotMatch\)$/m);
  });

  it('reads the profile from ~/.refreshd/config when the environment has none', async () => {
    mkdirSync(join(home, '.refreshd'), { recursive: true });
    writeFileSync(join(home, '.refreshd', 'config'), JSON.stringify({ endpoint: server.url, accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET }));
    const r = await cli(['quota', '--json'], { REFRESHD_ENDPOINT: undefined, REFRESHD_ACCESS_KEY_ID: undefined, REFRESHD_ACCESS_KEY_SECRET: undefined });
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).UrlQuota, '10000');
  });

  it('takes the endpoint as host:port or as a URL, from --endpoint, the environment or the profile', async () => {
    for (const env of [server.hostPort, server.url, `${server.url}/`]) {
      const r = await cli(['quota', '--json'], { REFRESHD_ENDPOINT: env });
      assert.equal(r.code, 0, `${env}: ${r.err}`);
    }
    const flag = await cli(['quota', '--json', '--endpoint', server.hostPort], { REFRESHD_ENDPOINT: 'http://127.0.0.1:9' });
    assert.equal(flag.code, 0, flag.err);
    writeFileSync(join(home, 'profile.json'), JSON.stringify({ endpoint: server.hostPort, accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET }));
    const prof = await cli(['quota', '--json'], { REFRESHD_PROFILE: join(home, 'profile.json'), REFRESHD_ENDPOINT: undefined, REFRESHD_ACCESS_KEY_ID: undefined, REFRESHD_ACCESS_KEY_SECRET: undefined });
    assert.equal(prof.code, 0, prof.err);
    const bad = await cli(['quota', '--endpoint', 'ftp://127.0.0.1:21']);
    assert.match(bad.err, /only http:\/\/ and https:\/\/ are served/);
  });

  it('task exits non-zero for an unknown task; tasks --status without --type names --type', async () => {
    const r = await cli(['task', '99999999999']);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim(), 'refreshd: no task 99999999999 in the last 3 days');
    const s = await cli(['tasks', '--status', 'Complete']);
    assert.equal(s.code, 1);
    assert.match(s.err, /--status needs --type \(file, directory, regex, ignoreparams, preload or cachetag\)/);
  });

  it('--file skips blank lines and # comments', async () => {
    const file = join(home, 'commented.txt');
    writeFileSync(file, '# purge after the deploy\n\nhttp://cli.example.com/c1.css\n   \n  # http://cli.example.com/not-this.css\nhttp://cli.example.com/c2.css\n');
    const r = await cli(['refresh', '--file', file, '--json']);
    assert.equal(r.code, 0, r.err);
    const rows = JSON.parse((await cli(['tasks', '--task', JSON.parse(r.out).TaskIds[0], '--json'])).out).Tasks.CDNTask;
    assert.deepEqual(rows.map((t: any) => t.ObjectPath).sort(), ['http://cli.example.com/c1.css', 'http://cli.example.com/c2.css']);
  });

  it('--client-token makes a retried refresh or preload return the same tasks; other paths with it are refused', async () => {
    for (const cmd of ['refresh', 'preload']) {
      const token = `cli-${cmd}-deploy-42`;
      const first = await cli([cmd, 'http://cli.example.com/t1.js', 'http://cli.example.com/t2.js', '--client-token', token, '--json']);
      assert.equal(first.code, 0, first.err);
      const again = await cli([cmd, 'http://cli.example.com/t1.js', 'http://cli.example.com/t2.js', '--client-token', token]);
      assert.equal(again.out, `task ${JSON.parse(first.out).TaskIds[0]}\n`);
      const other = await cli([cmd, 'http://cli.example.com/t3.js', '--client-token', token]);
      assert.equal(other.code, 1);
      assert.equal(other.err.trim(), 'refreshd: Request uses a client token in a previous request but is not identical to that request. (IdempotentParameterMismatch)');
    }
  });

  it('cancel stops running tasks and says what became of them; an unknown id exits non-zero', async () => {
    const id = JSON.parse((await cli(['refresh', 'http://slow.example.com/c1.js', 'http://slow.example.com/c2.js', 'http://slow.example.com/c3.js', '--json'])).out).TaskIds[0];
    const r = await cli(['cancel', id]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^TASK\s+STATUS\s+ITEMS\s+CANCELED ITEMS\s+CANCELED NODES\s+APPLIED NODES$/m);
    assert.match(r.out, new RegExp(`^${id}\\s+Failed\\s+3\\s+[23]\\s+[23]\\s+[01]$`, 'm'));
    const shown = await cli(['task', id]);
    assert.match(shown.out, /cli-slow\s+Failed\s+-\s+0\s+-\s+canceled/);
    const again = await cli(['cancel', id, '99999999999', '--json']);
    assert.equal(again.code, 1);
    assert.deepEqual(JSON.parse(again.out).Tasks.map((t: any) => [t.TaskId, t.Status, t.CanceledNodes]), [[id, 'Failed', 0]]);
    assert.equal(again.err.trim(), 'refreshd: no cdn task 99999999999 of this account in the last 3 days');
  });
});
