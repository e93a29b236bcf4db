import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET } from '../helpers/server.js';

/**
 * One hostile caller must not stall the service for others. A real `refreshd serve` process (no
 * worker, so tasks stay Pending and long-polls stay held) answers a normal signed client calling
 * 10 times a second, first alone (the baseline), then while at the same time
 *   (a) 200 connections hold unfinished request headers of ~100 KB each,
 *   (b) one client sends unsigned oversized queries back to back,
 *   (c) one user holds the most WaitForTasks calls it may, and keeps asking for more.
 * Under attack it calls for 20 s (200 calls), so one pause alone does not decide the p99. Its p99
 * must stay within 5x its baseline p99 (a floor of 20 ms absorbs timer noise when the baseline is
 * a millisecond or two; the baseline is the worse of before and after the attack), and the
 * server's RSS under 400 MB
 * (docs/operations.md: what the ceilings cost at most).
 */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'refreshd.js');
const RSS_BOUND_MB = 400;
const dataDir = mkdtempSync(join(tmpdir(), 'refreshd-hostile-'));
let child: ChildProcess;
let url = '';
let port = 0;

before(async () => {
  child = spawn(process.execPath, [BIN, 'serve', '--no-worker', '--listen', '127.0.0.1:0', '--data', dataDir], {
    env: { ...process.env, REFRESHD_ACCESS_KEY_ID: ACCESS_KEY_ID, REFRESHD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET, REFRESHD_LOG_LEVEL: 'warn' },
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m) {
        clearTimeout(timer);
        port = Number(m[2]);
        resolve(m[1]);
      }
    });
  });
  const added = spawnSync(process.execPath, [BIN, 'domain', 'add', 'example.com', '--data', dataDir], { encoding: 'utf8' });
  assert.equal(added.status, 0, added.stderr);
});
after(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * (a) 200 connections, each holding ~100 KB of a request line that never ends; (b) unsigned
 * queries over the header ceiling, back to back, each answered 431. On SIGTERM it prints how many.
 */
const ATTACKER = `
import { connect } from 'node:net';
const port = Number(process.argv[1]);
const slow = [];
for (let i = 0; i < 200; i++) {
  const s = connect(port, '127.0.0.1', () => s.write('GET /?x=' + 'a'.repeat(100 * 1024)));
  s.on('error', () => {});
  slow.push(s);
}
let attacking = true;
let oversized = 0;
const query = 'b'.repeat(200 * 1024);
process.on('SIGTERM', () => { attacking = false; });
while (attacking) {
  const res = await fetch('http://127.0.0.1:' + port + '/?Action=DescribeRefreshQuota&x=' + query).catch(() => undefined);
  if (res) {
    await res.arrayBuffer();
    if (res.status !== 431) { console.error('oversized query answered ' + res.status); process.exit(1); }
  }
  oversized++;
}
for (const s of slow) s.destroy();
process.stdout.write('oversized ' + oversized + '\\n');
process.exit(0);
`;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** The normal client: one signed DescribeRefreshTaskById every 100 ms for `ms`; latencies in ms. */
async function normalClient(taskId: string, ms: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const next = Date.now() + 100;
    const started = performance.now();
    const res = await rpc(url, 'DescribeRefreshTaskById', { TaskId: taskId });
    latencies.push(performance.now() - started);
    assert.equal(res.status, 200, res.text);
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  return latencies;
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1];
}

describe('a hostile caller does not stall a normal one', () => {
  it('slow headers, oversized unsigned queries and held long-polls at once', async () => {
    const taskId = (await rpc(url, 'RefreshObjectCaches', { ObjectPath: 'http://example.com/a' })).json.RefreshTaskId as string;
    assert.ok(taskId);
    const baseline = await normalClient(taskId, 6_000);

    let attacking = true;
    let maxRss = rssMb(child.pid!);
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb(child.pid!))), 200);

    // (a) and (b) from a process of their own, so their work does not slow the normal client's
    // own event loop: only the server is measured.
    const attacker = spawn(process.execPath, ['--input-type=module', '-e', ATTACKER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    // A real attacker spends its own machine's CPU, not the server's. Here it shares two cores
    // with the server: at the lowest priority it still floods whenever a core is free (the
    // assertions below check it did), but on a busy machine it cannot take the server's CPU
    // and pass that off as the server stalling (p99 8x its baseline with one core kept busy).
    setPriority(attacker.pid!, 19);
    let attackerOut = '';
    attacker.stdout!.on('data', (c) => (attackerOut += c));
    // (c) one user holds all the WaitForTasks it may (20) and keeps asking for more.
    let throttled = 0;
    const holders = Array.from({ length: 24 }, async () => {
      while (attacking) {
        const res = await rpc(url, 'WaitForTasks', { TaskId: taskId, Timeout: 5 });
        if (res.json.Code === 'Throttling') {
          throttled++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });

    const underAttack = await normalClient(taskId, 20_000);
    attacking = false;
    clearInterval(sampler);
    const attackerDone = new Promise((r) => attacker.once('exit', r));
    attacker.kill('SIGTERM');
    await attackerDone;
    await Promise.all(holders);
    const oversized = Number(/oversized (\d+)/.exec(attackerOut)?.[1] ?? 0);

    // Alone again: the baseline is the worse of before and after, so a machine that got busier
    // meanwhile (other work on shared cores) does not count against the server.
    const baselineAfter = await normalClient(taskId, 4_000);
    const base = Math.max(p99(baseline), p99(baselineAfter));
    const loaded = p99(underAttack);
    process.stdout.write(`# baseline p99 ${base.toFixed(1)} ms, under attack p99 ${loaded.toFixed(1)} ms, max RSS ${maxRss.toFixed(0)} MB, ${oversized} oversized queries, ${throttled} WaitForTasks refused\n`);
    assert.ok(oversized > 20, `the flood ran (${oversized})`);
    assert.ok(throttled > 0, 'the long-poll ceiling was reached');
    assert.ok(loaded <= Math.max(5 * base, 20), `p99 ${loaded.toFixed(1)} ms under attack against ${base.toFixed(1)} ms alone`);
    assert.ok(maxRss < RSS_BOUND_MB, `RSS ${maxRss.toFixed(0)} MB`);
  });
});
