/**
 * The describe benchmark's scenarios: bounded streams of questions about the store, each with a
 * check of the answer's content, built from what the bench read from the store (facts.ts). A
 * question goes out as a V1-signed call (to refreshd, or to the bare server of bare-server.ts)
 * or, for the raw-SQL baseline, as the store's own read (the statements refreshd runs for it)
 * in this process. Every run of a scenario draws the same questions (a seed per scenario), so
 * refreshd and its baselines answer the same sequence.
 */
import type { Facts, AccountFacts } from './facts.js';
import { DAY_MS, rng } from './dataset.js';
import { signV1, type Call } from './load.js';
import { parseTaskIds } from '../src/domain/describe.js';
import type { ItemQuery } from '../src/domain/records.js';
import type { TaskStore } from '../src/store/port.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** One question: whose, which action, its parameters, and what a right answer holds. */
export interface Ask {
  account: AccountFacts;
  action: 'DescribeRefreshTaskById' | 'DescribeRefreshTasks';
  params: Record<string, string>;
  check?: (json: any) => boolean;
}

export interface Scenario {
  name: string;
  group: 'byid' | 'list';
  /** A DescribeRefreshTasks call with a filter; paging alone is reported apart. */
  filtered?: boolean;
  ask: (r: () => number) => Ask;
}

const SEED = 99;

/** The scenario's questions as signed GET calls (the same sequence on every call of this). */
export function callsOf(s: Scenario, index: number): () => Call {
  const r = rng(SEED + index);
  return () => {
    const a = s.ask(r);
    return { method: 'GET', path: '/?' + signV1('GET', a.action, a.params, a.account.cred), check: a.check };
  };
}

/**
 * The same questions as the store's own reads, as describeTasks/describeTaskIds (src/domain/
 * describe.ts) put them to the store: the query shape's SQL and its row mapping, nothing else.
 */
export function storeCallsOf(s: Scenario, index: number, store: { tasks: Pick<TaskStore, 'queryItems' | 'itemsOfTasks'> }, windowDays: number): () => () => Promise<number> {
  const r = rng(SEED + index);
  return () => {
    const a = s.ask(r);
    const now = Date.now();
    const from = now - windowDays * DAY_MS;
    const p = a.params;
    if (a.action === 'DescribeRefreshTaskById') return async () => ((await store.tasks.itemsOfTasks(a.account.id, 'cdn', parseTaskIds(p.TaskId), from)), 1);
    const size = Number(p.PageSize ?? 20);
    const q: ItemQuery = {
      accountId: a.account.id, product: 'cdn', from, to: now,
      taskId: p.TaskId, objectPath: p.ObjectPath, objectType: p.ObjectType as ItemQuery['objectType'], status: p.Status as ItemQuery['status'],
      domains: p.DomainName === undefined ? undefined : [p.DomainName.toLowerCase()],
      offset: (Number(p.PageNumber ?? 1) - 1) * size, limit: size,
    };
    return async () => ((await store.tasks.queryItems(q)), 1);
  };
}

export function buildScenarios(facts: Facts): Scenario[] {
  const item = (r: () => number) => facts.samples[Math.floor(r() * facts.samples.length)];
  const get = (account: AccountFacts, action: Ask['action'], params: Record<string, string>, check?: (j: any) => boolean): Ask => ({ account, action, params, check });
  const rows = (j: any): any[] => j?.Tasks?.CDNTask ?? [];
  const nonEmpty = (j: any) => rows(j).length > 0;
  const answered = (j: any) => typeof j?.TotalCount === 'number';
  const typeOf = (r: () => number) => {
    const u = r();
    return u < 0.6 ? 'file' : u < 0.7 ? 'directory' : u < 0.72 ? 'regex' : 'preload';
  };
  const statusOf = (r: () => number) => {
    const u = r();
    return u < 0.5 ? 'Complete' : u < 0.7 ? 'Failed' : u < 0.85 ? 'Refreshing' : 'Pending';
  };
  const lastPage = (a: AccountFacts) => Math.max(1, Math.ceil(a.items / 100));
  return [
    {
      name: 'DescribeRefreshTaskById, 1 id', group: 'byid',
      ask: (r) => {
        const s = item(r);
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTaskById', { TaskId: s.taskId }, (j) => j.Tasks?.length > 0 && j.Tasks[0].TaskId === s.taskId);
      },
    },
    {
      name: 'DescribeRefreshTaskById, 10 ids', group: 'byid',
      ask: (r) => {
        let a: AccountFacts;
        do a = facts.byId.get(item(r).accountId)!;
        while (a.tasks.length < 10);
        const ids = new Set<number>();
        while (ids.size < 10) ids.add(a.tasks[Math.floor(r() * a.tasks.length)]);
        return get(a, 'DescribeRefreshTaskById', { TaskId: [...ids].join(',') }, (j) => new Set(j.Tasks?.map((t: any) => t.TaskId)).size === 10);
      },
    },
    {
      name: 'DescribeRefreshTasks, unfiltered page 1', group: 'list',
      ask: (r) => get(facts.byId.get(item(r).accountId)!, 'DescribeRefreshTasks', {}, nonEmpty),
    },
    {
      name: 'DescribeRefreshTasks, ObjectType+Status', group: 'list', filtered: true,
      ask: (r) => get(facts.byId.get(item(r).accountId)!, 'DescribeRefreshTasks', { ObjectType: typeOf(r), Status: statusOf(r) }, answered),
    },
    {
      name: 'DescribeRefreshTasks, ObjectType only', group: 'list', filtered: true,
      ask: (r) => get(facts.byId.get(item(r).accountId)!, 'DescribeRefreshTasks', { ObjectType: typeOf(r) }, answered),
    },
    {
      name: 'DescribeRefreshTasks, DomainName+ObjectType', group: 'list', filtered: true,
      ask: (r) => {
        const s = item(r);
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { DomainName: s.domain, ObjectType: s.type }, nonEmpty);
      },
    },
    {
      name: 'DescribeRefreshTasks, ObjectPath', group: 'list', filtered: true,
      ask: (r) => {
        const s = item(r);
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { ObjectPath: s.path }, (j) => rows(j).some((x) => x.ObjectPath === s.path));
      },
    },
    {
      name: 'DescribeRefreshTasks, TaskId', group: 'list', filtered: true,
      ask: (r) => {
        const s = item(r);
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { TaskId: s.taskId }, (j) => rows(j).length > 0 && rows(j).every((x) => x.TaskId === s.taskId));
      },
    },
    {
      name: 'DescribeRefreshTasks, near-last page (size 100)', group: 'list',
      ask: (r) => {
        const a = facts.byId.get(item(r).accountId)!;
        const page = Math.max(1, lastPage(a) - Math.floor(r() * 3));
        return get(a, 'DescribeRefreshTasks', { PageSize: '100', PageNumber: String(page) }, nonEmpty);
      },
    },
    {
      name: `DescribeRefreshTasks, heaviest acct last page (${fmt(lastPage(facts.heaviest))})`, group: 'list',
      ask: () => get(facts.heaviest, 'DescribeRefreshTasks', { PageSize: '100', PageNumber: String(lastPage(facts.heaviest)) }, nonEmpty),
    },
  ];
}

/** One ingest call's rows: 1,000 fresh File URLs on a domain of an account picked by traffic. */
export interface IngestBatch {
  account: AccountFacts;
  domain: string;
  urls: string[];
}

/** Ingest batches; `tag` keeps the paths of one stream apart from another's. */
export function ingestBatches(facts: Facts, tag: string): () => IngestBatch {
  const r = rng(4242);
  const run = `${Date.now().toString(36)}-${tag}`;
  let n = 0;
  return () => {
    const account = facts.byId.get(facts.samples[Math.floor(r() * facts.samples.length)].accountId)!;
    const domain = account.domains[0];
    const urls: string[] = [];
    for (let i = 0; i < 1000; i++) urls.push(`https://${domain}/bench/ingest/${run}/${(n++).toString(36)}.jpg`);
    return { account, domain, urls };
  };
}

/** The batches as signed RefreshObjectCaches calls. */
export function ingestCall(facts: Facts, tag = 'api'): () => Call {
  const next = ingestBatches(facts, tag);
  return () => {
    const { account, urls } = next();
    const body = signV1('POST', 'RefreshObjectCaches', { ObjectType: 'File', ObjectPath: urls.join('\n') }, account.cred);
    return { method: 'POST', path: '/', body, units: urls.length, check: (j) => typeof j.RefreshTaskId === 'string' && j.RefreshTaskId.length > 0 };
  };
}
