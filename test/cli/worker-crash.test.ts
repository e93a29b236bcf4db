import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { popClient, popRequest } from '../helpers/clients.js';
import { eventually } from '../helpers/settle.js';

/**
 * kill -9 in the middle of a fan-out: the engine's state is in the store, so after a restart
 * every accepted task still reaches a terminal state, each node attempt counted exactly once.
 */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'refreshd.js');
const dir = mkdtempSync(join(tmpdir(), 'refreshd-crash-'));
const creds = { id: 'LTAIcrashTestKey0001', secret: 'crash-test-secret' };
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// Slow simulated nodes and short leases: the kill lands mid-fan-out, and recovery is quick.
writeFileSync(join(dir, 'config.json'), JSON.stringify({
  engine: { simulatedNodes: 5, simulatedLatencyMs: [200, 1200], leaseMs: 1500, pollMs: 100, retryBaseMs: 50 },
}));

function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--data', dir, '--config', join(dir, 'config.json')], {
    env: { ...process.env, REFRESHD_ACCESS_KEY_ID: creds.id, REFRESHD_ACCESS_KEY_SECRET: creds.secret, REFRESHD_LOG_LEVEL: 'warn' },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(out)), 15_000);
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (m) (clearTimeout(timer), resolve({ child, url: m[1] }));
    });
  });
}

describe('a worker killed mid-fan-out', () => {
  it('loses nothing: after restart every task completes, every node applied once', async () => {
    const first = await serve();
    assert.equal(spawnSync(process.execPath, [BIN, 'domain', 'add', 'crash.example.com', '--data', dir]).status, 0);
    const client = popClient(first.url, '2018-05-10', creds);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const paths = Array.from({ length: 5 }, (_, j) => `http://crash.example.com/${i}/${j}.js`).join('\n');
      ids.push((await popRequest(client, 'RefreshObjectCaches', { ObjectPath: paths })).RefreshTaskId);
    }
    // Kill as soon as the fan-out is under way (a node confirmed something): a fixed pause could
    // outlast the whole fan-out when this process is the one slowed down by a loaded machine.
    const byId = () => popRequest(client, 'DescribeRefreshTaskById', { TaskId: ids.join(',') });
    const mid = await eventually(async () => {
      const res = await byId();
      return res.Tasks.some((t: any) => t.Process !== '0%') && res;
    }, 'the fan-out to start', 15_000, 20);
    assert.ok(mid.Tasks.some((t: any) => t.Status !== 'Complete'), 'killed before the fan-out finished');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await serve();
    const again = popClient(second.url, '2018-05-10', creds);
    const deadline = Date.now() + 20_000;
    let rows: any[] = [];
    while (Date.now() < deadline) {
      rows = (await popRequest(again, 'DescribeRefreshTaskById', { TaskId: ids.join(',') })).Tasks;
      if (rows.every((t) => t.Status === 'Complete')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(rows.length, 50);
    assert.deepEqual([...new Set(rows.map((t) => `${t.Status} ${t.Process}`))], ['Complete 100%']);
    const nodes = await popRequest(again, 'DescribeRefreshTaskNodes', { TaskId: ids.slice(0, 10).join(',') });
    for (const item of nodes.Items) {
      assert.equal(item.Nodes.length, 5);
      for (const n of item.Nodes) assert.equal(n.State, 'Applied');
    }
    second.child.kill('SIGTERM');
  });
});
