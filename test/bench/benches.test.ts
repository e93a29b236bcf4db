import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The benchmark scripts run to completion on a tiny store or fleet and print their ratio lines
 * and targets. Whether a target passes is not checked here: speed is judged by the benches
 * themselves on a quiet machine (docs/benchmarks.md), never by a timed test.
 */
const ROOT = resolve(import.meta.dirname, '../..');

function bench(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${script}`, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `bench/${script} exited with ${r.status}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

describe('benchmark scripts', () => {
  it('bench/describe.ts measures refreshd and its baselines in one run and prints the ratios and targets', () => {
    const out = bench('describe.ts', ['--items', '5000', '--seconds', '0.3', '--requests', '150', '--latency-seconds', '0.2', '--ingest-calls', '6', '--quiet-wait', '0', '--noise-retries', '0', '--no-build']);
    for (const scenario of ['DescribeRefreshTaskById, 1 id', 'DescribeRefreshTasks, unfiltered page 1', 'DescribeRefreshTasks, ObjectPath', 'RefreshObjectCaches 1000 URLs/call']) {
      assert.match(out, new RegExp(`^ratio  ${scenario.replace(/[+()]/g, '\\$&')}: throughput \\d+\\.\\d\\d× bare \\([\\d,]+ ÷ [\\d,]+ (req|URLs)/s\\), p99 \\d+\\.\\d\\d× bare .*; throughput \\d+\\.\\d\\d× store `, 'm'), `no ratio line for ${scenario}`);
    }
    assert.match(out, /^ {2}(PASS|FAIL) {2}DescribeRefreshTaskById, 1 id: throughput \d+\.\d\d× the bare server's \(refreshd [\d,]+\/s ÷ bare server [\d,]+\/s at c=16\); target ≥ 0\.4×$/m);
    assert.match(out, /^ {2}(PASS|FAIL) {2}DescribeRefreshTasks, unfiltered page 1: throughput \d+\.\d\d× the bare server's/m);
    // The p99 target is judged for every Describe shape.
    assert.equal(out.match(/^ {2}(PASS|FAIL) {2}Describe.*: p99 at c=16 \d+\.\d\d× the bare server's \(refreshd [\d.]+ ms ÷ bare server [\d.]+ ms\); target ≤ 3×$/gm)?.length, 10);
    assert.match(out, /^ {2}(PASS|FAIL) {2}RefreshObjectCaches: \d+\.\d\d× the raw insert loop \(refreshd [\d,]+ URLs\/s ÷ the store's own submit of the same batches [\d,]+ URLs\/s/m);
    assert.match(out, /every answer was HTTP 200 with the expected content/);
  });

  it('bench/fanout.ts times refreshd and its bare baselines on real Varnish and prints a PASS/FAIL line per target with its baseline', () => {
    const out = bench('fanout.ts', ['--only', 'varnish-probe:100', '--reps100', '2', '--warmup', '1']);
    assert.match(out, /^\| 3 Varnish \(probe\) \| 100 \| 2 \| [\d.]+ \/ [\d.]+ \| [\d.]+ \/ [\d.]+ \| \d+\.\d\d \| [\d.]+ \| \d+\.\d\d \| /m);
    assert.match(out, /^target 3 Varnish \(probe\) × 100 URLs, p50 ratio ≤ 1\.3×: (PASS|FAIL) \(\d+\.\d\d×; baseline: bare purge\+probe pipelined 8 deep on 1 connection per node\)$/m);
    assert.match(out, /^target 3 Varnish \(probe\) × 100 URLs, p50 ratio \(issue 14\) ≤ 1\.5×: (PASS|FAIL) /m);
    assert.match(out, /^target 3 Varnish \(probe\) × 100 URLs, p50 ratio to purges only \(issue 14\) ≤ 2\.5×: (PASS|FAIL) \(\d+\.\d\d×; baseline: bare purges pipelined 8 deep on 1 connection per node\)$/m);
  });

  it('bench/scale.ts runs its cells and prints the cost per node-attempt against the first cell', () => {
    const out = bench('scale.ts', ['--nodes', '2,6', '--urls', '20', '--reps', '1', '--no-build']);
    assert.match(out, /^\| 2 \| 40 \| 1 \| /m);
    assert.match(out, /^\| 6 \| 120 \| 1 \| /m);
    assert.match(out, /^ratio {2}6 nodes: refreshd CPU per attempt (\d+\.\d\d×|-) the 2-node cell's \([\d.]+ ÷ [\d.]+ µs\); time per attempt \d+\.\d\d×/m);
  });

  it('bench/cancel-token.ts prints the ClientToken and cancel costs against their same-run baselines on both stores', () => {
    const out = bench('cancel-token.ts', ['--submits', '20', '--urls', '2', '--items', '20', '--nodes', '2', '--rounds', '1']);
    for (const store of ['sqlite', 'postgres']) {
      assert.match(out, new RegExp(`^${store}: submit of 2 URLs, median of 20: plain [\\d.]+ ms, with ClientToken [\\d.]+ ms \\(\\d+\\.\\d\\dx\\), retry answered from the token [\\d.]+ ms \\(\\d+\\.\\d\\dx\\)$`, 'm'));
      assert.match(out, new RegExp(`^${store}: a task of 20 items on 2 nodes \\(40 attempts\\), median of 1: dispatching it [\\d.]+ ms, cancelling it half dispatched [\\d.]+ ms \\(\\d+\\.\\d\\dx\\)$`, 'm'));
    }
  });
});
