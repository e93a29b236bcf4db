import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type Origin } from '../edges/harness/origin.js';
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
});
