/**
 * The describe benchmark's scenarios: bounded streams of V1-signed calls, each with a check of
 * the answer's content, built from what the bench read from the store (facts.ts). The same
 * scenarios run against either store and any number of API processes.
 */
import type { Facts, AccountFacts } from './facts.js';
import { rng } from './dataset.js';
import { signV1, type Call } from './load.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export interface Scenario {
  name: string;
  group: 'byid' | 'list';
  /** A DescribeRefreshTasks call with a filter (the p99 target); paging alone is reported apart. */
  filtered?: boolean;
  make: () => Call;
}

export function buildScenarios(facts: Facts): Scenario[] {
  const r = rng(99);
  const item = () => facts.samples[Math.floor(r() * facts.samples.length)];
  const get = (a: AccountFacts, action: string, params: Record<string, string>, check?: (j: any) => boolean): Call => ({
    method: 'GET', path: '/?' + signV1('GET', action, params, a.cred), check,
  });
  const rows = (j: any): any[] => j?.Tasks?.CDNTask ?? [];
  const nonEmpty = (j: any) => rows(j).length > 0;
  const answered = (j: any) => typeof j?.TotalCount === 'number';
  const typeOf = () => {
    const u = r();
    return u < 0.6 ? 'file' : u < 0.7 ? 'directory' : u < 0.72 ? 'regex' : 'preload';
  };
  const statusOf = () => {
    const u = r();
    return u < 0.5 ? 'Complete' : u < 0.7 ? 'Failed' : u < 0.85 ? 'Refreshing' : 'Pending';
  };
  const lastPage = (a: AccountFacts) => Math.max(1, Math.ceil(a.items / 100));
  return [
    {
      name: 'DescribeRefreshTaskById, 1 id', group: 'byid',
      make: () => {
        const s = item();
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTaskById', { TaskId: s.taskId }, (j) => j.Tasks?.length > 0 && j.Tasks[0].TaskId === s.taskId);
      },
    },
    {
      name: 'DescribeRefreshTaskById, 10 ids', group: 'byid',
      make: () => {
        let a: AccountFacts;
        do a = facts.byId.get(item().accountId)!;
        while (a.tasks.length < 10);
        const ids = new Set<number>();
        while (ids.size < 10) ids.add(a.tasks[Math.floor(r() * a.tasks.length)]);
        return get(a, 'DescribeRefreshTaskById', { TaskId: [...ids].join(',') }, (j) => new Set(j.Tasks?.map((t: any) => t.TaskId)).size === 10);
      },
    },
    {
      name: 'DescribeRefreshTasks, unfiltered page 1', group: 'list',
      make: () => get(facts.byId.get(item().accountId)!, 'DescribeRefreshTasks', {}, nonEmpty),
    },
    {
      name: 'DescribeRefreshTasks, ObjectType+Status', group: 'list', filtered: true,
      make: () => get(facts.byId.get(item().accountId)!, 'DescribeRefreshTasks', { ObjectType: typeOf(), Status: statusOf() }, answered),
    },
    {
      name: 'DescribeRefreshTasks, ObjectType only', group: 'list', filtered: true,
      make: () => get(facts.byId.get(item().accountId)!, 'DescribeRefreshTasks', { ObjectType: typeOf() }, answered),
    },
    {
      name: 'DescribeRefreshTasks, DomainName+ObjectType', group: 'list', filtered: true,
      make: () => {
        const s = item();
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { DomainName: s.domain, ObjectType: s.type }, nonEmpty);
      },
    },
    {
      name: 'DescribeRefreshTasks, ObjectPath', group: 'list', filtered: true,
      make: () => {
        const s = item();
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { ObjectPath: s.path }, (j) => rows(j).some((x) => x.ObjectPath === s.path));
      },
    },
    {
      name: 'DescribeRefreshTasks, TaskId', group: 'list', filtered: true,
      make: () => {
        const s = item();
        return get(facts.byId.get(s.accountId)!, 'DescribeRefreshTasks', { TaskId: s.taskId }, (j) => rows(j).length > 0 && rows(j).every((x) => x.TaskId === s.taskId));
      },
    },
    {
      name: 'DescribeRefreshTasks, near-last page (size 100)', group: 'list',
      make: () => {
        const a = facts.byId.get(item().accountId)!;
        const page = Math.max(1, lastPage(a) - Math.floor(r() * 3));
        return get(a, 'DescribeRefreshTasks', { PageSize: '100', PageNumber: String(page) }, nonEmpty);
      },
    },
    {
      name: `DescribeRefreshTasks, heaviest acct last page (${fmt(lastPage(facts.heaviest))})`, group: 'list',
      make: () => get(facts.heaviest, 'DescribeRefreshTasks', { PageSize: '100', PageNumber: String(lastPage(facts.heaviest)) }, nonEmpty),
    },
  ];
}

export function ingestCall(facts: Facts): () => Call {
  const r = rng(4242);
  const run = Date.now().toString(36);
  let n = 0;
  return () => {
    const a = facts.byId.get(facts.samples[Math.floor(r() * facts.samples.length)].accountId)!;
    const domain = a.domains[0];
    const urls: string[] = [];
    for (let i = 0; i < 1000; i++) urls.push(`https://${domain}/bench/ingest/${run}/${(n++).toString(36)}.jpg`);
    const body = signV1('POST', 'RefreshObjectCaches', { ObjectType: 'File', ObjectPath: urls.join('\n') }, a.cred);
    return { method: 'POST', path: '/', body, units: 1000, check: (j) => typeof j.RefreshTaskId === 'string' && j.RefreshTaskId.length > 0 };
  };
}
