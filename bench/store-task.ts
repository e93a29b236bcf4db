/**
 * What one task costs the SQLite store, phase by phase, through the store port only: the submit
 * (its transaction and the WAL flush it waits for), the worker's dispatch (none when the local
 * worker takes the items at submit, the default `serve`), outcome batches of 64 with the
 * WaitForTasks count after each, the webhook finish scan and the rows of the answer. No HTTP,
 * no nodes: the store's share of the fan-out benchmark's main thread (docs/benchmarks.md).
 *
 *   node --import tsx bench/store-task.ts [--tasks 300] [--urls 100] [--nodes 3] [--no-taker]
 *
 * CPU is process.cpuUsage() around each phase (the flush's fdatasync runs on libuv's pool and
 * counts too); the first 100 tasks warm up and are not counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AttemptResult, ClaimedAttempt } from '../src/store/port.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '300' },
    urls: { type: 'string', default: '100' },
    nodes: { type: 'string', default: '3' },
    'no-taker': { type: 'boolean', default: false },
  },
});
const TASKS = Number(args.tasks);
const URLS = Number(args.urls);
const WARM = 100;
const BATCH = 64;
const DAY = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), 'refreshd-store-task-'));
const store = new SqliteStore(join(dir, 'refreshd.db'));
const now0 = Date.now();
const account = (await store.identity.createAccount({ uid: '1000000000000001', name: 'bench', createdAt: now0 })).id;
await store.domains.addDomain({ name: 'example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'bench', createdAt: now0 });
for (let i = 0; i < Number(args.nodes); i++) {
  await store.fleet.addNode({ name: `n${i}`, driver: 'varnish', address: `127.0.0.1:${6100 + i}`, group: 'bench', area: 'domestic', enabled: true, options: {}, createdAt: now0 });
}
let taken: ClaimedAttempt[] = [];
const lease = args['no-taker'] ? undefined : { owner: 'bench', leaseMs: 30_000, room: 4096 };

const wall = new Map<string, number>();
const cpu = new Map<string, number>();
let counting = false;
async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const u = process.cpuUsage();
  const out = await run();
  const d = process.cpuUsage(u);
  if (counting) {
    wall.set(name, (wall.get(name) ?? 0) + performance.now() - t);
    cpu.set(name, (cpu.get(name) ?? 0) + (d.user + d.system) / 1000);
  }
  return out;
}

for (let n = 0; n < WARM + TASKS; n++) {
  counting = n >= WARM;
  const now = Date.now();
  const paths = Array.from({ length: URLS }, (_, i) => `http://example.com/t${n}/${i}.jpg`);
  const out = await phase('submit', async () => {
    const o = await store.tasks.submit({
      accountId: account, product: 'cdn', createdAt: now, consume: [], lease,
      tasks: [{ domain: 'example.com', objectType: 'file', force: true, area: null, l2Preload: false, withHeader: null, paths }],
    });
    if (o.ok) await o.durable();
    return o;
  });
  if (!out.ok) throw new Error('submit refused');
  taken = out.leased;
  // What the worker's loop does when the items were not taken at submit: 16 first, then the rest.
  if (taken.length === 0) {
    const first = await phase('dispatch', () => store.queue.dispatchAndClaim('bench', now, 30_000, 16, 4096));
    const rest = await phase('dispatch', () => store.queue.dispatchAndClaim('bench', now, 30_000, 100, 4096));
    taken = [...first.claimed, ...rest.claimed];
  }
  const results: AttemptResult[] = taken.map((c) => ({ itemId: c.itemId, nodeId: c.nodeId, lease: c.lease, state: 'applied' }));
  for (let i = 0; i < results.length; i += BATCH) {
    await phase('record', () => store.queue.recordOutcomes(now, results.slice(i, i + BATCH)));
    await phase('count', () => store.tasks.countOpenTasks(account, 'cdn', out.taskIds, now - DAY));
  }
  await phase('finish', () => store.outbox.finishTasks(now, 100));
  await phase('rows', () => store.tasks.itemsOfTasks(account, 'cdn', out.taskIds, now - DAY));
}

console.log(`SQLite store, per task of ${URLS} URLs on ${args.nodes} nodes (${TASKS} tasks, ${args['no-taker'] ? 'dispatched by the worker' : 'taken at submit'}):`);
let totalWall = 0;
let totalCpu = 0;
for (const [name, w] of wall) {
  const c = cpu.get(name)!;
  totalWall += w;
  totalCpu += c;
  console.log(`  ${name.padEnd(8)} ${(w / TASKS).toFixed(3)} ms wall  ${(c / TASKS).toFixed(3)} ms CPU`);
}
console.log(`  ${'total'.padEnd(8)} ${(totalWall / TASKS).toFixed(3)} ms wall  ${(totalCpu / TASKS).toFixed(3)} ms CPU`);
await store.close();
rmSync(dir, { recursive: true, force: true });
