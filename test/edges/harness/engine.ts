import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { EdgeNode } from '../../../src/edges/driver.js';
import { BIN } from '../../helpers/admin-cli.js';
import { rpc } from '../../helpers/rpc.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/**
 * refreshd itself (API server and worker, no simulated fleet, quick retries) driving real cache
 * servers: tasks go in through the API and come back through it, as a user sees them.
 */
export interface Engine {
  server: TestServer;
  /** Put a harness node in `group` and map `domain` to that group. */
  add(node: EdgeNode, group: string, domain: string, origin: string): Promise<void>;
  /** RefreshObjectCaches (with `extra` parameters, e.g. VerifyUrl) and wait (WaitForTasks) until it is done: its rows and its nodes. */
  refresh(paths: string[], type?: 'File' | 'Directory' | 'Regex' | 'IgnoreParams', force?: boolean, extra?: Record<string, string>): Promise<TaskOutcome>;
  /** RefreshObjectCacheByCacheTag, waited for like refresh. */
  purgeTags(domain: string, tags: string[], force: boolean, extra?: Record<string, string>): Promise<TaskOutcome>;
  /** The real `refreshd` CLI on the server's data dir, run without blocking this process's event loop. */
  cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }>;
  close(): Promise<void>;
}

export interface TaskOutcome {
  status: string;
  rows: Record<string, string>[];
  nodes: { Node: string; State: string; Verified: string; Attempts: number; Error: string }[];
}

export async function startEngine(): Promise<Engine> {
  const server = await startTestServer(
    { engine: { simulatedNodes: 0, retryBaseMs: 20, maxAttempts: 3, pollMs: 50, leaseMs: 5000, requestTimeoutMs: 5000 } },
    { worker: true },
  );
  /** Wait (WaitForTasks) until the task is done: its rows and its nodes. */
  async function waitFor(taskId: string): Promise<TaskOutcome> {
    const waited = await rpc(server.url, 'WaitForTasks', { TaskId: taskId, Timeout: 30 });
    assert.equal(waited.json.Done, true, waited.text);
    const rows = waited.json.Tasks.Task ?? waited.json.Tasks.CDNTask ?? waited.json.Tasks;
    const nodes = (await rpc(server.url, 'DescribeRefreshTaskNodes', { TaskId: taskId })).json.Items.flatMap((i: { Nodes: TaskOutcome['nodes'] }) => i.Nodes);
    const list = Array.isArray(rows) ? rows : [];
    return { status: list.some((r: Record<string, string>) => r.Status === 'Failed') ? 'Failed' : 'Complete', rows: list, nodes };
  }
  return {
    server,
    async add(node, group, domain, origin) {
      await server.store.fleet.addNode({ name: node.name, driver: node.driver, address: node.address, group, area: 'domestic', enabled: true, options: node.options, createdAt: Date.now() });
      if (!(await server.store.domains.findDomain(domain))) {
        await server.store.domains.addDomain({ name: domain, accountId: server.accountId, product: 'cdn', origin, online: true, nodeGroup: group, createdAt: Date.now() });
      }
    },
    async refresh(paths, type = 'File', force, extra = {}) {
      const res = await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: paths.join('\n'), ObjectType: type, ...(force === undefined ? {} : { Force: String(force) }), ...extra }, { method: 'POST' });
      assert.equal(res.status, 200, res.text);
      return waitFor(String(res.json.RefreshTaskId));
    },
    async purgeTags(domain, tags, force, extra = {}) {
      const res = await rpc(server.url, 'RefreshObjectCacheByCacheTag', { DomainName: domain, CacheTag: tags.join(','), Force: String(force), ...extra }, { method: 'POST' });
      assert.equal(res.status, 200, res.text);
      return waitFor(String(res.json.RefreshTaskId));
    },
    cli: (...args) => new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args, '--data', server.dataDir]);
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      child.once('close', (code) => resolve({ code, out, err }));
    }),
    close: () => server.close(),
  };
}
