import type { ParamSpec } from './types.js';

/** Parameter definitions shared by several actions of both products. */

export const objectPathSubmit = (max: string): ParamSpec => ({
  type: 'string',
  required: true,
  doc: `URLs or directories separated by \\n or \\r\\n, each at most 1,024 characters, \`http(s)://host/path\` or \`host/path\` (port 1–65535; no control characters, Unicode line breaks or bidi controls). A path given more than once in one call is one item, charged once. ${max}`,
});

export const refreshObjectType = (): ParamSpec => ({
  type: 'enum',
  values: ['File', 'Directory', 'Regex', 'IgnoreParams'],
  aliases: { path: 'Directory', dir: 'Directory' },
  default: 'File',
  error: 'InvalidObjectType.ValueNotSupported',
  doc: 'File (default), Directory (paths end with `/`), Regex (one rule per call; the expression must be valid both as PCRE2, which the caches run, and as an ECMAScript `u` expression: no `\\u` escapes, no `[]`/`[^]`, lookbehinds of fixed length, unique group names), IgnoreParams. Case-insensitive; `path` is accepted for Directory.',
});

export const force = (): ParamSpec => ({
  type: 'boolean',
  default: false,
  doc: 'For Directory/Regex/IgnoreParams: true purges everything in scope, false (default) marks it stale so it is revalidated.',
});

export const area = (): ParamSpec => ({
  type: 'enum',
  values: ['domestic', 'overseas'],
  doc: 'Where to warm: domestic or overseas; absent means every node of the domain.',
});

export const l2Preload = (): ParamSpec => ({ type: 'boolean', default: false, doc: 'Warm the L2 (parent) tier only.' });

export const withHeader = (): ParamSpec => ({
  type: 'string',
  maxLength: 4096,
  doc: 'JSON object of header arrays sent with each warm-up fetch, e.g. `{"Accept-Encoding":["gzip"]}`; at most 32 headers. Host, Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Content-Length, Upgrade, Expect and Proxy-* are refused (InvalidParameter): they belong to the request, not the object.',
});

export const describeFilters = (opts: { maxPageSize: number; objectTypes: readonly string[] }): Record<string, ParamSpec> => ({
  TaskId: { type: 'string', maxLength: 64, doc: 'Only rows of this task (decimal id).' },
  ObjectPath: { type: 'string', maxLength: 1024, doc: 'Only rows with exactly this path.' },
  PageNumber: { type: 'integer', min: 1, max: 100000, default: 1, doc: 'Page to return, 1–100000.' },
  PageSize: { type: 'integer', min: 1, max: opts.maxPageSize, default: 20, doc: `Rows per page, 1–${opts.maxPageSize}, default 20.` },
  ObjectType: {
    type: 'enum',
    values: opts.objectTypes,
    aliases: { path: 'directory' },
    error: 'InvalidObjectType.ValueNotSupported',
    doc: `Task type: ${opts.objectTypes.join(', ')} (\`path\` is accepted for directory). Required with DomainName or Status.`,
  },
  DomainName: { type: 'string', maxLength: 16384, doc: 'Only rows of this domain (a comma-separated list of up to 500 is accepted).' },
  Status: {
    type: 'enum',
    values: ['Complete', 'Refreshing', 'Failed', 'Pending'],
    error: 'InvalidStatus.ValueNotSupported',
    doc: 'Complete, Refreshing, Failed (and Pending). Requires ObjectType.',
  },
  StartTime: { type: 'string', maxLength: 32, doc: '`yyyy-MM-ddTHH:mm:ssZ` UTC, within the last 3 days; with EndTime.' },
  EndTime: { type: 'string', maxLength: 32, doc: '`yyyy-MM-ddTHH:mm:ssZ` UTC, later than StartTime; with StartTime.' },
});

export const TASK_ROW_RESULT = 'TaskId, ObjectPath, ObjectType, Status, Process, CreationTime, Description';
