/**
 * What the describe benchmark knows about a filled store, whichever store it is: the accounts
 * with their keys, domains and task ids, and a uniform sample of items to ask about. The
 * backends (bench-sqlite.ts, bench-postgres.ts) read the rows; the assembly is shared here.
 */
import { readFileSync } from 'node:fs';
import type { Store } from '../src/store/port.js';
import type { Credentials } from './load.js';
import { rng } from './dataset.js';

export interface AccountFacts {
  id: number;
  cred: Credentials;
  domains: string[];
  items: number;
  tasks: number[];
}
export interface SampleItem {
  accountId: number;
  taskId: string;
  path: string;
  domain: string;
  type: string;
}
export interface Facts {
  accounts: AccountFacts[];
  byId: Map<number, AccountFacts>;
  samples: SampleItem[];
  heaviest: AccountFacts;
  itemCount: number;
  taskCount: number;
  oldest: number;
}

export interface KeyRecord {
  accountId: number;
  accessKeyId: string;
  secret: string;
}

/** Rows the backends read; ids and counts as numbers. */
export interface StoreRows {
  domains: { name: string; account_id: number }[];
  /** [task id, account id, item count] of every CDN task. */
  tasks: Iterable<[number, number, number]>;
  itemCount: number;
  oldest: number;
  /** The sampled items, in the order of sampleIds(). */
  samples: ({ account_id: number; task_id: number; object_path: string; domain: string; object_type: string } | undefined)[];
}

/** 20,000 item ids drawn uniformly from [lo, hi], the same for the same store on either backend. */
export function sampleIds(lo: number, hi: number): number[] {
  const r = rng(7);
  return Array.from({ length: 20_000 }, () => lo + Math.floor(r() * (hi - lo + 1)));
}

export function readKeys(keysFile: string): KeyRecord[] {
  return JSON.parse(readFileSync(keysFile, 'utf8')) as KeyRecord[];
}

/** Accounts come up in the samples in proportion to their traffic. */
export function assembleFacts(keys: KeyRecord[], rows: StoreRows): Facts {
  const accounts = new Map<number, AccountFacts>();
  for (const k of keys) if (!accounts.has(k.accountId)) accounts.set(k.accountId, { id: k.accountId, cred: { accessKeyId: k.accessKeyId, secret: k.secret }, domains: [], items: 0, tasks: [] });
  for (const d of rows.domains) accounts.get(d.account_id)?.domains.push(d.name);
  let taskCount = 0;
  for (const [id, accountId, items] of rows.tasks) {
    const a = accounts.get(accountId);
    if (!a) continue;
    a.tasks.push(id);
    a.items += items;
    taskCount++;
  }
  const samples: SampleItem[] = [];
  for (const row of rows.samples) {
    if (row && accounts.has(row.account_id)) samples.push({ accountId: row.account_id, taskId: String(row.task_id), path: row.object_path, domain: row.domain, type: row.object_type });
  }
  const list = [...accounts.values()];
  const heaviest = list.reduce((a, b) => (b.items > a.items ? b : a));
  return { accounts: list, byId: accounts, samples, heaviest, itemCount: rows.itemCount, taskCount, oldest: rows.oldest };
}

/** One store under the bench: how to read it, undo an ingest run, time its sweep and plans. */
export interface BenchBackend {
  readonly name: 'sqlite' | 'postgres';
  /** `serve` flags that point a server at this store (besides --data). */
  readonly serverStoreArgs: string[];
  /** The database server's pid (PostgreSQL), whose CPU is reported apart; none for SQLite. */
  readonly dbPid?: number;
  /** What the report says about the store engine (version, settings). */
  describe(): Promise<string>;
  facts(keysFile: string): Promise<Facts>;
  sizeBytes(): Promise<number>;
  highWater(): Promise<{ item: number; task: number }>;
  /** Delete the rows an ingest run added after highWater(); returns the items removed. */
  removeAbove(hw: { item: number; task: number }): Promise<number>;
  /** Time the store's retention sweep when nothing is old enough to delete (ms). */
  measureSweep(oldest: number): Promise<number>;
  explain(facts: Facts): Promise<void>;
  /** The store itself, opened in this process (for the baselines' own reads and inserts). */
  openStore(): Promise<Store>;
  /** Read the store's files into the OS page cache before measuring (see bench-sqlite.ts). */
  warm?(): Promise<void>;
  close(): Promise<void>;
}

/** Time a store's own retention sweep when nothing is old enough to delete (ms); closes the store. */
export async function timeSweep(store: Store, oldest: number): Promise<number> {
  try {
    const t0 = performance.now();
    await store.ops.sweep(oldest - 1, Date.now());
    return performance.now() - t0;
  } finally {
    await store.close();
  }
}
