import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The worker claims due retries at least every poll period, even while a long task's outcomes
 * keep waking it before its poll timer fires (the items of a new submit are handed to it
 * directly, which wakes nobody). A real server and worker on simulated nodes.
 */
let server: TestServer;

before(async () => {
  server = await startTestServer(
    { engine: { simulatedNodes: 0, retryBaseMs: 100, maxAttempts: 2, pollMs: 200, leaseMs: 5000 } },
    { worker: true },
  );
  const add = async (name: string, group: string, options: Record<string, unknown>) => {
    await server.store.fleet.addNode({ name, driver: 'simulated', address: `simulated/${name}`, group, area: 'domestic', enabled: true, options, createdAt: 0 });
    await server.store.domains.addDomain({ name: `${group}.example.com`, accountId: server.accountId, product: 'cdn', origin: null, online: true, nodeGroup: group, createdAt: 0 });
  };
  // One attempt at a time, 25 ms each: 240 URLs keep outcomes coming for ~6 s.
  await add('slow-1', 'slow', { latencyMs: [25, 25], concurrency: 1 });
  await add('broken-1', 'broken', { failureRate: 1 });
});
after(() => server.close());

async function rows(taskId: string): Promise<{ Status: string }[]> {
  return (await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: taskId })).json.Tasks;
}

describe('worker claims', () => {
  it('a retry due while another task’s outcomes stream in runs within about a poll period', async () => {
    const broken = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://broken.example.com/x' })).json.RefreshTaskId as string;
    const paths = Array.from({ length: 240 }, (_, i) => `http://slow.example.com/${i}`).join('\n');
    const slow = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: paths })).json.RefreshTaskId as string;
    const started = Date.now();
    // The first try fails at once; the retry is due ~100 ms later and fails for good (maxAttempts 2).
    for (;;) {
      const [row] = await rows(broken);
      if (row.Status === 'Failed') break;
      assert.ok(Date.now() - started < 6000, `the retry still had not run after ${Date.now() - started} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const took = Date.now() - started;
    const open = (await rows(slow)).filter((r) => r.Status !== 'Complete').length;
    assert.ok(open > 0, 'the other task was still streaming outcomes');
    // Starved, the retry would wait for the stream's end (~6 s, the check above); within about a
    // poll period it runs after ~300 ms. Half the stream leaves room for a loaded machine.
    assert.ok(took < 3000, `the retry ran after ${took} ms`);
  });
});
