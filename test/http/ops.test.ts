import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../helpers/rpc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** /healthz, /readyz and Prometheus /metrics on a real server with a worker. */
let server: TestServer;
before(async () => {
  server = await startTestServer({ engine: { simulatedNodes: 2, simulatedLatencyMs: [5, 20], pollMs: 50 } }, { worker: true });
  await server.addDomain('ops.example.com');
});
after(() => server.close());

const get = async (path: string) => {
  const res = await fetch(server.url + path);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
};
/** The value of one sample line, e.g. metric('x_total{a="b"}'). */
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('operations endpoints', () => {
  it('/healthz and /readyz answer while the store is fine', async () => {
    assert.deepEqual(JSON.parse((await get('/healthz')).text), { status: 'ok' });
    const ready = await get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(JSON.parse(ready.text).status, 'ready');
  });

  it('/metrics counts calls by action and code, node operations, queue depth and quota use', async () => {
    const before = await get('/metrics');
    const okBefore = sample(before.text, 'refreshd_api_requests_total{action="RefreshObjectCaches",code="OK"}') ?? 0;
    const id = (await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'http://ops.example.com/a\nhttp://ops.example.com/b' })).json.RefreshTaskId;
    await rpc(server.url, 'WaitForTasks', { TaskId: id, Timeout: 10 });
    await rpc(server.url, 'DescribeRefreshTaskById', { TaskId: 'nope' });
    await rpc(server.url, 'NoSuchAction', {});
    const m = await get('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain/);
    assert.equal(sample(m.text, 'refreshd_api_requests_total{action="RefreshObjectCaches",code="OK"}'), okBefore + 1);
    assert.ok((sample(m.text, 'refreshd_api_requests_total{action="DescribeRefreshTaskById",code="InvalidTaskId.Malformed"}') ?? 0) >= 1);
    assert.ok((sample(m.text, 'refreshd_api_requests_total{action="other",code="InvalidAction.NotFound"}') ?? 0) >= 1, 'unknown actions are not labels');
    assert.ok((sample(m.text, 'refreshd_node_operations_total{node="sim-1",driver="simulated",outcome="ok"}') ?? 0) >= 2);
    assert.ok((sample(m.text, 'refreshd_node_operation_duration_seconds_count{node="sim-2",driver="simulated"}') ?? 0) >= 2);
    assert.ok((sample(m.text, 'refreshd_api_request_duration_seconds_count{action="WaitForTasks"}') ?? 0) >= 1);
    assert.equal(sample(m.text, 'refreshd_queue_depth{kind="leased"}'), 0);
    assert.equal(sample(m.text, 'refreshd_quota_used{product="cdn",kind="url"}'), 2);
    assert.match(m.text, /^refreshd_process_resident_memory_bytes \d+/m);
  });

  it('/readyz says not ready when the store is gone', async () => {
    server.store.raw.close();
    const ready = await get('/readyz');
    assert.equal(ready.status, 503);
    assert.equal(JSON.parse(ready.text).status, 'not ready');
  });
});
