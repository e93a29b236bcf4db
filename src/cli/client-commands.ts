import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { loadProfile, RpcClient, VERSIONS } from './rpc-client.js';
import { waitForTasks } from './wait.js';

/**
 * Day-to-day commands that call the API like any client: refresh, preload, tasks, task, cancel, quota.
 * `--json` prints the API's answer for scripts; errors read as sentences with the code beside.
 */
interface Common { json?: boolean; product: 'cdn' | 'vod'; endpoint?: string }
interface Submit { file?: string; wait?: boolean; timeout: string; clientToken?: string }
const product = () => new Option('--product <product>', 'cdn (2018-05-10) or vod (2017-03-21)').choices(['cdn', 'vod']).default('cdn');
const endpoint = () => new Option('--endpoint <endpoint>', 'refreshd to call: host:port or http(s)://host:port (env REFRESHD_ENDPOINT; default 127.0.0.1:7070)');
const client = (o: Common) => new RpcClient(loadProfile(process.env, undefined, o.endpoint), VERSIONS[o.product]);
const print = (o: Common, json: unknown, text: () => string) => process.stdout.write(o.json ? JSON.stringify(json, null, 2) + '\n' : text());
/** The --type values of `tasks`: DescribeRefreshTasks' ObjectType, lower case. */
const TASK_TYPES = ['file', 'directory', 'regex', 'ignoreparams', 'preload', 'cachetag'];

export function registerClientCommands(program: Command): void {
  const submitCommand = (name: 'refresh' | 'preload') =>
    program.command(`${name} [paths...]`)
      .option('--file <file>', 'read paths from a file, one per line (blank lines and # comments skipped)')
      .option('--wait', 'follow the tasks until every node has confirmed them')
      .option('--timeout <seconds>', 'give up waiting after this long', '600')
      .option('--client-token <token>', 'idempotency key (1–64 printable ASCII): sending the same call again with it within 24 h returns the same tasks, charged once')
      .option('--json', 'print JSON')
      .addOption(product())
      .addOption(endpoint());

  submitCommand('refresh')
    .description('purge URLs, directories or a regex; or, with --tag, every object of a domain tagged so by the origin')
    .addOption(new Option('--type <type>', 'what the paths are').choices(['file', 'directory', 'regex', 'ignoreparams']).default('file'))
    .option('--force', 'directories/regex/tags: purge instead of marking stale')
    .option('--then-preload', 'file/ignoreparams: warm each URL on each node once that node has purged it (also charges the preload quota)')
    .option('--tag <tags>', 'purge by cache tag (comma-separated, at most 10) instead of paths; needs --domain')
    .option('--domain <domain>', 'with --tag: the domain whose tagged objects are purged')
    .option('--verify-url <url>', 'directory/regex/ignoreparams/tag purges: a sample URL in scope that nodes verifying by probe must show gone (repeatable, at most 10)', collect, [])
    .action(async (paths: string[], o: Common & Submit & { type: string; force?: boolean; tag?: string; domain?: string; thenPreload?: boolean; verifyUrl: string[] }) => {
      if (o.thenPreload && o.tag !== undefined) throw new Error('--then-preload warms URLs: it does not go with --tag');
      const VerifyUrl = o.verifyUrl.length > 0 ? o.verifyUrl.join('\n') : undefined;
      if (o.tag !== undefined || o.domain !== undefined) {
        if (o.tag === undefined || o.domain === undefined) throw new Error('--tag and --domain go together');
        if (paths.length > 0 || o.file) throw new Error('give paths or --tag, not both');
        if (o.product !== 'cdn') throw new Error('purge by cache tag is a CDN action (--product cdn)');
        const res = await client(o).call('RefreshObjectCacheByCacheTag', { CacheTag: o.tag, DomainName: o.domain, Force: o.force ? 'true' : undefined, ClientToken: o.clientToken, VerifyUrl }, 'POST');
        return finish(o, [String(res.RefreshTaskId)], res);
      }
      const type = { file: 'File', directory: 'Directory', regex: 'Regex', ignoreparams: 'IgnoreParams' }[o.type];
      const action = o.product === 'cdn' ? 'RefreshObjectCaches' : 'RefreshVodObjectCaches';
      const res = await client(o).call(action, {
        ObjectPath: pathsOf(paths, o.file), ObjectType: type, Force: o.force ? 'true' : undefined, PreloadAfter: o.thenPreload ? 'true' : undefined, ClientToken: o.clientToken, VerifyUrl,
      }, 'POST');
      await finish(o, String(res.RefreshTaskId).split(','), res);
    });

  submitCommand('preload')
    .description('warm URLs from the origin into the caches')
    .addOption(new Option('--area <area>', 'warm only domestic or overseas nodes').choices(['domestic', 'overseas']))
    .option('--l2', 'warm the L2 tier only')
    .option('--expand-manifest', '.m3u8/.mpd paths: warm the manifest and every playlist, segment and init segment it names')
    .action(async (paths: string[], o: Common & Submit & { area?: string; l2?: boolean; expandManifest?: boolean }) => {
      const action = o.product === 'cdn' ? 'PushObjectCache' : 'PreloadVodObjectCaches';
      const res = await client(o).call(action, {
        ObjectPath: pathsOf(paths, o.file), Area: o.area, L2Preload: o.l2 ? 'true' : undefined, ExpandManifest: o.expandManifest ? 'true' : undefined, ClientToken: o.clientToken,
      }, 'POST');
      await finish(o, String(res.PushTaskId ?? res.PreloadTaskId).split(','), res);
    });

  program.command('tasks')
    .description('list refresh and preload rows of the last 3 days, newest first')
    .option('--domain <domain>', 'only this domain (needs --type)')
    .addOption(new Option('--type <type>', 'task type').choices(TASK_TYPES))
    .addOption(new Option('--status <status>', 'task status (needs --type)').choices(['Complete', 'Refreshing', 'Failed', 'Pending']))
    .option('--task <id>', 'only rows of this task')
    .option('--path <path>', 'only rows with exactly this path')
    .option('--since <time>', 'yyyy-MM-ddTHH:mm:ssZ (with --until)')
    .option('--until <time>', 'yyyy-MM-ddTHH:mm:ssZ (with --since)')
    .option('--page <n>', 'page number', '1')
    .option('--page-size <n>', 'rows per page', '20')
    .option('--json', 'print JSON')
    .addOption(product())
    .addOption(endpoint())
    .action(async (o: Common & Record<string, string | undefined>) => {
      // The API wants ObjectType with either; say which flag that is rather than echo its parameter name.
      if ((o.status || o.domain) && !o.type) throw new Error(`--${o.status ? 'status' : 'domain'} needs --type (${TASK_TYPES.slice(0, -1).join(', ')} or ${TASK_TYPES.at(-1)})`);
      const res = await client(o).call(o.product === 'cdn' ? 'DescribeRefreshTasks' : 'DescribeVodRefreshTasks', {
        DomainName: o.domain, ObjectType: o.type, Status: o.status, TaskId: o.task, ObjectPath: o.path,
        StartTime: o.since, EndTime: o.until, PageNumber: o.page, PageSize: o.pageSize,
      });
      const rows: Record<string, string>[] = res.Tasks.CDNTask ?? res.Tasks.Task;
      print(o, res, () => table(['TASK', 'STATUS', 'PROCESS', 'TYPE', 'CREATED', 'PATH'], rows.map((r) => [r.TaskId, r.Status, r.Process, r.ObjectType, r.CreationTime, r.ObjectPath]))
        + `page ${res.PageNumber}, ${rows.length} of ${res.TotalCount} rows\n`);
    });

  program.command('task <id>')
    .description("one task: every item and every cache node's state, attempts and errors")
    .option('--json', 'print JSON')
    .addOption(product())
    .addOption(endpoint())
    .action(async (id: string, o: Common) => {
      const res = await client(o).call('DescribeRefreshTaskNodes', { TaskId: id });
      if (res.Items.length === 0) throw new Error(`no task ${id} in the last 3 days`);
      print(o, res, () => res.Items.map((item: any) =>
        `${item.ObjectPath}  ${item.Status} ${item.Process}${item.Description ? `  (${item.Description})` : ''}\n` +
        table(['  NODE', 'STATE', 'VERIFIED', 'ATTEMPTS', 'APPLIED', 'ERROR'], item.Nodes.map((n: any) => [`  ${n.Node}`, n.Phase ? `${n.State} (${n.Phase.toLowerCase()})` : n.State, n.Verified || '-', String(n.Attempts), n.AppliedTime || '-', n.Error || ''])),
      ).join('\n'));
    });

  program.command('cancel <ids...>')
    .description('cancel running tasks (up to 10): nodes not yet done are dropped, what they applied stays')
    .option('--json', 'print JSON')
    .addOption(product())
    .addOption(endpoint())
    .action(async (ids: string[], o: Common) => {
      const res = await client(o).call('CancelRefreshTasks', { TaskId: ids.join(',') }, 'POST');
      const tasks: Record<string, string | number>[] = res.Tasks;
      print(o, res, () => table(['TASK', 'STATUS', 'ITEMS', 'CANCELED ITEMS', 'CANCELED NODES', 'APPLIED NODES'],
        tasks.map((t) => [t.TaskId, t.Status, t.Items, t.CanceledItems, t.CanceledNodes, t.AppliedNodes].map(String))));
      const found = new Set(tasks.map((t) => String(t.TaskId)));
      const missing = ids.filter((id) => !found.has(id.trim().replace(/^0+(?=\d)/, '')));
      for (const id of missing) process.stderr.write(`refreshd: no ${o.product} task ${id} of this account in the last 3 days\n`);
      if (missing.length > 0) process.exitCode = 1;
    });

  program.command('preload-detail <id>')
    .description('one preload task URL by URL: on what share of nodes each was warmed, and why not elsewhere')
    .option('--json', 'print JSON')
    .action(async (id: string, o: Common) => {
      const res = await client({ ...o, product: 'cdn' }).call('DescribePreloadDetailById', { TaskId: id });
      const d = res.UrlDetails[0];
      print(o, res, () => !d ? `no preload task ${id} in the last 3 days\n` :
        `task ${d.TaskId}  ${d.Domain}  ${d.Status} ${d.Process}${d.EndTime ? `  ended ${d.EndTime}` : ''}\n` +
        table(['  URL', 'WARMED', 'DETAIL'], d.Urls.map((u: Record<string, string>) => [`  ${u.Url}`, u.Success, u.Description])));
    });

  program.command('quota')
    .description("today's quotas and what is left")
    .option('--json', 'print JSON')
    .addOption(product())
    .addOption(endpoint())
    .action(async (o: Common) => {
      const res = await client(o).call(o.product === 'cdn' ? 'DescribeRefreshQuota' : 'DescribeVodRefreshQuota', {});
      const kinds = Object.keys(res).filter((k) => k.endsWith('Quota')).map((k) => k.slice(0, -'Quota'.length));
      print(o, res, () => table(['KIND', 'LEFT', 'OF'], kinds.map((k) => [k, String(res[`${k}Remain`] ?? res[`${k[0].toLowerCase()}${k.slice(1)}Remain`]) /* VOD: blockRemain */, String(res[`${k}Quota`])])));
    });
}

/** Paths from the arguments and `--file` (one a line; blank lines and `#` comments skipped). */
export function pathsOf(args: string[], file?: string): string {
  const fromFile = file ? readFileSync(file, 'utf8').split(/\r?\n/).map((p) => p.trim()).filter((p) => !p.startsWith('#')) : [];
  const paths = [...args.map((p) => p.trim()), ...fromFile].filter(Boolean);
  if (paths.length === 0) throw new Error('give at least one path, or --file');
  return paths.join('\n');
}

async function finish(o: Common & { wait?: boolean; timeout: string }, taskIds: string[], res: Record<string, unknown>): Promise<void> {
  if (!o.wait) {
    print(o, { ...res, TaskIds: taskIds }, () => taskIds.map((id) => `task ${id}\n`).join(''));
    return;
  }
  const result = await waitForTasks(client(o), taskIds, { timeoutMs: Number(o.timeout) * 1000, out: o.json ? null : process.stderr });
  print(o, result, () => result.failures.map((f) => `FAILED ${f.objectPath} on ${f.node}: ${f.error} (${f.description})\n`).join(''));
  if (result.timedOut) {
    process.stderr.write(`refreshd: gave up waiting after ${o.timeout} s\n`);
    process.exitCode = 3;
  } else if (result.tasks.some((t) => t.status === 'Failed')) {
    process.exitCode = 2;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ').trimEnd() + '\n';
  return line(head) + rows.map(line).join('');
}
