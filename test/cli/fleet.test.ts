import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminCli, BIN } from '../helpers/admin-cli.js';
import { freePort } from '../edges/harness/process.js';

/**
 * No false Complete from the emulator: domains move between groups (domain set) or go (domain
 * remove); the built-in fleet goes in one command; simulated nodes are marked; and while real
 * nodes exist, a domain left on simulated-only nodes is flagged at domain add/set, in domain
 * list and when serve starts.
 */
const dir = mkdtempSync(join(tmpdir(), 'refreshd-fleet-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const { cli, ok, fails } = adminCli(() => dir);
const WARNING = /warning: domain www\.example\.com is served by group default, which holds only simulated nodes while real cache nodes exist \(group eu\): its tasks complete without touching a cache; run `refreshd domain set www\.example\.com --group eu`, or `refreshd node remove --simulated`/;

describe('fleet commands', () => {
  // A fresh store as `init` (or a first `serve`) makes it: the root account and 8 simulated nodes.
  before(() => ok('init'));

  it('domain set/remove, node remove --simulated, marks and warnings', async () => {
    ok('domain', 'add', 'www.example.com', '--origin', 'http://127.0.0.1:8080');
    // Only simulated nodes: the offline emulator, nothing to warn about.
    assert.doesNotMatch(cli('domain', 'list').err, /warning/);
    const port = await freePort();
    ok('node', 'add', 'edge-1', '--driver', 'varnish', '--address', `127.0.0.1:${port}`, '--group', 'eu');

    const list = ok('node', 'list');
    assert.match(list, /^sim-1\tsimulated\tsimulated\/1\tgroup=default\tdomestic\tenabled\tverify=ack\tSIMULATED \(no cache\)$/m);
    assert.match(list, /^edge-1\tvarnish\t127\.0\.0\.1:\d+\tgroup=eu\tdomestic\tenabled\tverify=probe$/m);
    const listed = cli('domain', 'list');
    assert.match(listed.out, /^www\.example\.com\tcdn\tonline\tgroup=default\t.*\tSIMULATED ONLY$/m);
    assert.match(listed.err, WARNING);
    assert.match(cli('domain', 'add', 'img.example.com').err, /warning: domain img\.example\.com is served by group default/);
    ok('domain', 'remove', 'img.example.com');
    fails(/no domain img\.example\.com/, 'domain', 'remove', 'img.example.com');

    // serve says it at start too.
    const served = await serveOutput();
    assert.match(served, WARNING);

    const moved = cli('domain', 'set', 'www.example.com', '--group', 'eu');
    assert.equal(moved.code, 0, moved.err);
    assert.match(moved.out, /^www\.example\.com: group eu, origin http:\/\/127\.0\.0\.1:8080, cdn$/m);
    assert.doesNotMatch(moved.err, /warning/);
    assert.doesNotMatch(cli('domain', 'list').out, /SIMULATED ONLY/);
    ok('domain', 'set', 'www.example.com', '--origin', '', '--product', 'vod');
    assert.match(ok('domain', 'list'), /^www\.example\.com\tvod\tonline\tgroup=eu\t-\t/m);
    fails(/give --group, --origin or --product/, 'domain', 'set', 'www.example.com');
    fails(/no domain none\.example\.com/, 'domain', 'set', 'none.example.com', '--group', 'eu');

    assert.equal(ok('node', 'remove', '--simulated'), 'removed sim-1, sim-2, sim-3, sim-4, sim-5, sim-6, sim-7, sim-8\n');
    assert.doesNotMatch(ok('node', 'list'), /sim-/);
    assert.equal(ok('node', 'remove', '--simulated'), 'no simulated nodes\n');
    fails(/give a node name or --simulated/, 'node', 'remove');

    ok('group', 'set', 'eu', '--verify', 'ack');
    assert.match(ok('group', 'list'), /^eu\tverify=ack\tedge-1$/m);
    assert.match(ok('node', 'list'), /^edge-1\t.*\tverify=ack$/m);
    fails(/--verify is probe or ack/, 'group', 'set', 'eu', '--verify', 'maybe');
  });

  it('node add --check adds nothing when the check fails, and says why', async () => {
    const port = await freePort();
    const r = cli('node', 'add', 'edge-down', '--driver', 'varnish', '--address', `127.0.0.1:${port}`, '--check', '--url', 'http://www.example.com/x');
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`node edge-down not added: edge-down \\(127\\.0\\.0\\.1:${port}\\) is unreachable \\(ECONNREFUSED[^)]*\\): start the cache, or fix the node's address`));
    assert.doesNotMatch(ok('node', 'list'), /edge-down/);
    ok('node', 'add', 'edge-2', '--driver', 'varnish', '--address', `127.0.0.1:${port}`, '--group', 'eu2');
    const check = cli('node', 'check', 'edge-2', '--url', 'http://www.example.com/x');
    assert.equal(check.code, 1, 'node check exits non-zero on a failure');
    assert.match(check.out, /^edge-2\tFAILED\tcanary http:\/\/www\.example\.com\/x$/m);
  });
});

/** Start serve on this data dir until it listens; its stderr and stdout. */
function serveOutput(): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--data', dir], { env: { ...process.env, REFRESHD_LOG_LEVEL: 'warn' } });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`serve did not start: ${out}`))), 20_000);
    const done = () => {
      if (!/listening on/.test(out) || !/warning/.test(out)) return;
      clearTimeout(timer);
      child.once('exit', () => resolve(out));
      child.kill('SIGTERM');
    };
    child.stdout.on('data', (c) => ((out += c), done()));
    child.stderr.on('data', (c) => ((out += c), done()));
  });
}
