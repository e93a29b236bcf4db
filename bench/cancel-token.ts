/**
 * What ClientTokens and cancels cost the stores, through the store port, each against a
 * baseline measured in the same run on the same store:
 *
 * - a submit with a ClientToken against the same submit without one, and a retry with the token
 *   (answered from its record) against a fresh submit;
 * - cancelling a running task (half its items dispatched with their attempts pending, half not yet
 *   dispatched) against dispatching the same task, which writes the same attempt rows; and the
 *   longest the cancel holds the event loop against one round of the worker's dispatch.
 *
 *   node --import tsx bench/cancel-token.ts [--submits 400] [--urls 10] [--items 1000] [--nodes 20] [--rounds 5] [--only sqlite|postgres]
 *
 * PostgreSQL is a throwaway durable cluster (test/store/pg-cluster.ts). Run it under
 * `flock /tmp/refreshd-bench.lock` on a shared machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Store, SubmitBatch } from '../src/store/port.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { startPgCluster } from '../test/store/pg-cluster.js';

const { values: args } = parseArgs({
  options: {
    submits: { type: 'string', default: '400' },
    urls: { type: 'string', default: '10' },
    items: { type: 'string', default: '1000' },
    nodes: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string' },
  },
});
const SUBMITS = Number(args.submits);
const URLS = Number(args.urls);
const ITEMS = Number(args.items);
const NODES = Number(args.nodes);
const ROUNDS = Number(args.rounds);
const DAY = 86_400_000;
const log = (s: string) => process.stdout.write(s + '\n');

async function setUp(store: Store): Promise<number> {
  const now = Date.now();
  const account = (await store.identity.createAccount({ uid: '1000000000000001', name: 'bench', createdAt: now })).id;
  await store.domains.addDomain({ name: 'example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'bench', createdAt: now });
  for (let i = 0; i < NODES; i++) {
    await store.fleet.addNode({ name: `n${i}`, driver: 'varnish', address: `127.0.0.1:${6100 + i}`, group: 'bench', area: 'domestic', enabled: true, options: {}, createdAt: now });
  }
  return account;
}

let seq = 0;
function batch(account: number, n: number, token?: string): SubmitBatch {
  const at = Date.now();
  const tag = ++seq;
  return {
    accountId: account, product: 'cdn', createdAt: at,
    consume: [{ bucket: `day:bench:${account}`, amount: n, limit: 1e12, expiresAt: at + DAY }],
    tasks: [{ domain: 'example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: Array.from({ length: n }, (_, i) => `http://example.com/${tag}/${i}.js`) }],
    clientToken: token === undefined ? undefined : { token, fingerprint: `fp-${token}`, expiresAt: at + DAY },
  };
}

/** Median of what `run` returns (a time in ms), called `n` times one after another. */
async function median(n: number, run: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await run());
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await run();
  return performance.now() - t;
}

/**
 * The longest the event loop was held while `run` ran: the widest gap between turns of a
 * setImmediate loop (the API and the worker share the loop, so this is how long a cancel keeps
 * every other request waiting).
 */
async function longestHold(run: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  let spinning = true;
  const spin = () => {
    const t = performance.now();
    worst = Math.max(worst, t - last);
    last = t;
    if (spinning) setImmediate(spin);
  };
  setImmediate(spin);
  await run();
  spinning = false;
  return Math.max(worst, performance.now() - last);
}

async function submit(store: Store, b: SubmitBatch) {
  const out = await store.tasks.submit(b);
  if (!out.ok) throw new Error(`refused: ${JSON.stringify(out)}`);
  await out.durable();
  return out;
}

async function measure(name: string, store: Store): Promise<void> {
  const account = await setUp(store);
  // Warm both paths first.
  for (let i = 0; i < 50; i++) (await submit(store, batch(account, URLS)), await submit(store, batch(account, URLS, `warm-${i}`)));
  // Interleaved, so drift on a shared machine hits both alike.
  const plain: number[] = [];
  const tokened: number[] = [];
  const replay: number[] = [];
  for (let i = 0; i < SUBMITS; i++) {
    for (const [list, run] of [
      [plain, () => submit(store, batch(account, URLS))],
      [tokened, () => submit(store, batch(account, URLS, `t-${i}`))],
      [replay, () => submit(store, batch(account, URLS, `t-${i}`))],
    ] as const) {
      const t = performance.now();
      await run();
      list.push(performance.now() - t);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  log(`${name}: submit of ${URLS} URLs, median of ${SUBMITS}: plain ${med(plain).toFixed(3)} ms, with ClientToken ${med(tokened).toFixed(3)} ms (${(med(tokened) / med(plain)).toFixed(2)}x), retry answered from the token ${med(replay).toFixed(3)} ms (${(med(replay) / med(plain)).toFixed(2)}x)`);

  // Cancel vs dispatch of a task of ITEMS items on NODES nodes (ITEMS × NODES attempt rows either way).
  await store.queue.dispatchAndClaim('drain', Date.now(), 60_000, 1e6, 0);
  const dispatch = await median(ROUNDS, async () => {
    await submit(store, batch(account, ITEMS));
    return timed(async () => {
      for (let left = ITEMS; left > 0; left -= 500) await store.queue.dispatchAndClaim('bench', Date.now(), 60_000, 500, 0);
    });
  });
  // One round of the worker's dispatch (100 items, worker.ts DISPATCH_BATCH): how long the loop is held routinely.
  const dispatchHold = await median(ROUNDS, async () => {
    await submit(store, batch(account, ITEMS));
    const hold = await longestHold(() => store.queue.dispatchAndClaim('bench', Date.now(), 60_000, 100, 0));
    await store.queue.dispatchAndClaim('drain', Date.now(), 60_000, 1e6, 0);
    return hold;
  });
  const holds: number[] = [];
  const cancel = await median(ROUNDS, async () => {
    const out = await submit(store, batch(account, ITEMS));
    // Half dispatched (attempts pending, as a running task has them), half not yet.
    await store.queue.dispatchAndClaim('bench', Date.now(), 60_000, ITEMS / 2, 0);
    let canceled = 0;
    let ms = 0;
    holds.push(await longestHold(async () => (ms = await timed(async () => (canceled = (await store.tasks.cancelTasks(account, 'cdn', out.taskIds, 0, Date.now()))[0].canceledNodes)))));
    if (canceled !== ITEMS * NODES) throw new Error(`canceled ${canceled}, not ${ITEMS * NODES}`);
    return ms;
  });
  const hold = [...holds].sort((a, b) => a - b)[Math.floor(holds.length / 2)];
  log(`${name}: a task of ${ITEMS} items on ${NODES} nodes (${ITEMS * NODES} attempts), median of ${ROUNDS}: dispatching it ${dispatch.toFixed(1)} ms, cancelling it half dispatched ${cancel.toFixed(1)} ms (${(cancel / dispatch).toFixed(2)}x)`);
  log(`${name}: longest hold of the event loop, median of ${ROUNDS}: by the cancel ${hold.toFixed(1)} ms, by one dispatch round of 100 items ${dispatchHold.toFixed(1)} ms (${(hold / dispatchHold).toFixed(2)}x)`);
}

if (args.only !== 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-bench-cancel-'));
  const store = new SqliteStore(join(dir, 'refreshd.db'));
  try {
    await measure('sqlite', store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (args.only !== 'sqlite') {
  const cluster = await startPgCluster({ durable: true });
  try {
    const store = await PostgresStore.open(await cluster.createDatabase());
    try {
      await measure('postgres', store);
    } finally {
      await store.close();
    }
  } finally {
    await cluster.stop();
  }
}
