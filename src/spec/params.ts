import type { CrossFieldRule, ParamSpec } from './types.js';

/**
 * Parameter definitions shared by several actions of both products. Each keeps its literal type
 * (`as const`), so the handlers' parameter types are inferred from the tables (types.ts ParamsOf).
 */

export const objectPathSubmit = (max: string) =>
  ({
    type: 'string',
    required: true,
    doc: `URLs or directories separated by \\n or \\r\\n, each at most 1,024 characters, \`http(s)://host/path\` or \`host/path\` (port 1–65535; no control characters, Unicode line breaks or bidi controls). A path given more than once in one call is one item, charged once. ${max}`,
  }) as const satisfies ParamSpec;

export const refreshObjectType = () =>
  ({
    type: 'enum',
    values: ['File', 'Directory', 'Regex', 'IgnoreParams'],
    aliases: { path: 'Directory', dir: 'Directory' },
    default: 'File',
    error: 'InvalidObjectType.ValueNotSupported',
    doc: 'File (default), Directory (paths end with `/`), Regex (one rule per call; the expression must be valid both as PCRE2, which the caches run, and as an ECMAScript `u` expression: no `\\u` escapes, no `[]`/`[^]`, lookbehinds of fixed length, unique group names), IgnoreParams. Case-insensitive; `path` is accepted for Directory.',
  }) as const satisfies ParamSpec;

export const force = () =>
  ({
    type: 'boolean',
    default: false,
    doc: 'For Directory/Regex/IgnoreParams: true purges everything in scope, false (default) marks it stale so it is revalidated.',
  }) as const satisfies ParamSpec;

/** refreshd's VerifyUrl extension on the refresh actions (domain/verify-url.ts, docs/caches.md). */
export const verifyUrl = (scope: string) =>
  ({
    type: 'string',
    doc: `refreshd extension: up to 10 sample URLs, separated by \\n or \\r\\n, that the purge is verified on. ${scope} On the nodes of a group that verifies by probe, each sample is looked at after the node acknowledged the purge and must be gone (or stale, when Force=false); otherwise that node's attempt fails with \`purge acknowledged but HOST/PATH still cached (probe: HIT)\`, is retried, then Failed. A value that breaks these rules answers InvalidParameter with the reason.`,
  }) as const satisfies ParamSpec;

/** Where RefreshObjectCaches' samples must lie (RefreshObjectCaches, RefreshVodObjectCaches). */
export const REFRESH_SAMPLES =
  'For Directory, Regex and IgnoreParams: each is on a domain of the call and in the purge\'s scope — under one of its directories (Directory), matched by the expression from the first `/` of its path (Regex), or one of its URLs with any query (IgnoreParams). Not with File: a File refresh is verified on its own URLs.';

/** How RefreshObjectCaches' outcomes are verified per node (RefreshObjectCaches, RefreshVodObjectCaches). */
export const VERIFICATION_NOTE =
  'Verification (DescribeRefreshTaskNodes\' Verified), on nodes of a group that verifies by probe: a File refresh probes its URLs; with VerifyUrl, the samples in each item\'s scope are probed (`Probe`); without, a Directory probes its own URL and an IgnoreParams URL its path without query (`Probe`), and a Regex the node\'s canary object (node option `canary`) when the expression covers it, fetched through the node first (`Canary`), else it is the node\'s answer (`Ack`).';

export const area = () =>
  ({
    type: 'enum',
    values: ['domestic', 'overseas'],
    doc: 'Where to warm: domestic or overseas; absent means every node of the domain.',
  }) as const satisfies ParamSpec;

export const l2Preload = () =>
  ({
    type: 'boolean',
    default: false,
    doc: 'Warm the L2 (parent) tier only.',
    limitation:
      'refreshd\'s fleet has no tiers: every node in scope is warmed either way. `true` only changes the quota: such a preload counts against PreloadQuota but not PreloadEdgeQuota.',
  }) as const satisfies ParamSpec;

export const withHeader = () =>
  ({
    type: 'string',
    maxLength: 4096,
    doc: 'JSON object of header arrays sent with each warm-up fetch, e.g. `{"Accept-Encoding":["gzip"]}`; at most 32 headers. Host, Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Content-Length, Upgrade, Expect and Proxy-* are refused (InvalidParameter): they belong to the request, not the object.',
  }) as const satisfies ParamSpec;

/**
 * refreshd extension on every submit: an idempotency key (domain/client-token.ts). The
 * characters are checked there (1–64 printable ASCII); the table bounds the length.
 */
export const clientToken = () =>
  ({
    type: 'string',
    maxLength: 64,
    doc: 'refreshd extension: an idempotency key of 1–64 printable ASCII characters (space to `~`), chosen by the client. The same account sending the same token within 24 hours gets the first call\'s task ids again, and no new task is created or charged; the same token with other parameters answers IdempotentParameterMismatch. Parameters are compared as read: `\\r\\n` or `\\n`, a default sent or left out, a path given twice are the same call. A call answered with an error records nothing; a retry must still be valid (its domains the account\'s and online).',
  }) as const satisfies ParamSpec;

/** A list of task ids, as DescribeRefreshTaskById and the extensions take it. */
export const taskIdList = () =>
  ({ type: 'string', required: true, maxLength: 1024, doc: 'Up to 10 task ids, comma-separated.' }) as const satisfies ParamSpec;

export const describeFilters = <const T extends readonly string[]>(opts: { maxPageSize: number; objectTypes: T }) =>
  ({
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
  }) as const satisfies Record<string, ParamSpec>;

/** The cross-field rules of the describe filters (seeds 002 and 004). */
export const DESCRIBE_RULES = [
  { kind: 'requires', param: 'ObjectType', when: ['DomainName', 'Status'], error: 'MissingParameter.ObjectType' },
  { kind: 'together', params: ['StartTime', 'EndTime'], error: 'MissingTimeParameter' },
] as const satisfies readonly CrossFieldRule[];

/** The codes the describe filters answer beyond their own parameters' checks. */
export const DESCRIBE_ERRORS = [
  'InvalidParameter', 'InvalidTaskId.Malformed', 'InvalidObjectPath.Malformed', 'InvalidObjectType.ValueNotSupported',
  'InvalidStatus.ValueNotSupported', 'MissingParameter.ObjectType', 'DomainNameOverLimit', 'MissingTimeParameter',
  'InvalidStartTime.Malformed', 'InvalidEndTime.Malformed', 'InvalidEndTime.Mismatch', 'InvalidStartTime.ValueNotSupported',
  'InvalidEndTime.ValueNotSupported', 'InvalidTime',
] as const;

/** What a submit (refresh or preload) may answer. */
export const SUBMIT_ERRORS = [
  'MissingParameter', 'InvalidParameter', 'InvalidObjectPath.Malformed', 'SingleRequest.OverLimit', 'InvalidDomain.NotFound',
  'InvalidDomain.Offline', 'QuotaExceeded.Refresh', 'QuotaPerMinuteExceeded.Refresh', 'IdempotentParameterMismatch',
] as const;

export const TASK_ROW_RESULT = 'TaskId, ObjectPath, ObjectType, Status, Process, CreationTime, Description';

/** DescribeRefreshTasks (seed 004) shows no Pending: a row no node has confirmed yet is Refreshing. */
export const CDN_STATUS = {
  type: 'enum',
  values: ['Complete', 'Refreshing', 'Failed', 'Pending'],
  error: 'InvalidStatus.ValueNotSupported',
  doc: 'Complete, Refreshing (which includes rows no node has confirmed yet) or Failed. Requires ObjectType. `Pending` is a refreshd extension: only the rows no node has confirmed yet (still shown as Refreshing).',
} as const satisfies ParamSpec;

/** Purge-then-warm (refreshd extension) on the refresh actions of both products. */
export const preloadAfter = () =>
  ({
    type: 'boolean',
    default: false,
    doc: 'refreshd extension, purge-then-warm: `true` preloads each URL on each node as soon as that node has confirmed its purge (and, where its group verifies by probe, the probe has shown the object gone), so no warm-up can reach a node before its purge and bring the old object back. ObjectType File or IgnoreParams only. Each URL also counts against the preload quota (PreloadQuota and PreloadEdgeQuota).',
  }) as const satisfies ParamSpec;

/** PreloadAfter=true needs objects, not directories or a regex. */
export const PRELOAD_AFTER_RULE = {
  kind: 'onlyWith', param: 'PreloadAfter', value: true, other: 'ObjectType', values: ['File', 'IgnoreParams'], error: 'InvalidParameter.PreloadAfter',
} as const satisfies CrossFieldRule;

export const PRELOAD_AFTER_NOTES = [
  'PreloadAfter=true (refreshd extension): the row is `Complete` only when every node in scope has confirmed both the purge and the preload, `Failed` as soon as a node cannot do either; Process counts the nodes that have done both. DescribeRefreshTaskNodes shows each node\'s Phase (`Purge` until the node confirmed the purge, then `Preload`), PurgedTime, and the attempts of its current phase.',
  'PreloadAfter=true: the call charges the refresh quota (UrlQuota or IgnoreParamsQuota, and the per-minute limit) and the preload quota (PreloadQuota and PreloadEdgeQuota) for every URL, checked together in one transaction: if either would be exceeded, QuotaExceeded.Refresh refuses the whole call and nothing is charged. Such rows do not count against the preload queue (PreloadQueueFull).',
  'PreloadAfter=true: the purge is a hard one (as with Force=true), so the warm-up fetches from the origin instead of serving or revalidating a stale copy; the preload fetches the URL as given through each node (for IgnoreParams, with its query string), every node of the domain, with no extra headers.',
] as const;

/** HLS/DASH-aware preload (refreshd extension) on the preload actions of both products. */
export const expandManifest = () =>
  ({
    type: 'boolean',
    default: false,
    doc: 'refreshd extension: `true` expands each ObjectPath ending in `.m3u8` (HLS) or `.mpd` (DASH) before answering: refreshd reads it from the domain\'s origin, follows variant playlists (3 levels at most, the submitted one included) and preloads the manifests and every segment and init segment they name, each as its own row of the task. Other paths are preloaded as given.',
  }) as const satisfies ParamSpec;

export const EXPAND_MANIFEST_NOTES = [
  'ExpandManifest=true: the expansion happens before the answer, so the quotas see every URL it yields. If they do not all fit, the call is refused whole, never cut: QuotaExceeded.Refresh (or PreloadQueueFull) with a message saying how many URLs the manifests expand to and how much of today\'s quota is left; past the configured ceiling (`manifests.maxUrls`, 10,000 by default; `manifests.maxFetches` manifest fetches), SingleRequest.OverLimit with the count. The 100-URL limit applies to ObjectPath as given.',
  'ExpandManifest=true: HLS — variant, rendition (EXT-X-MEDIA) and I-frame playlists, media segments, EXT-X-MAP init sections and LL-HLS parts (EXT-X-PART); EXT-X-BYTERANGE parts of one URL are one row. Keys (EXT-X-KEY) are not preloaded. DASH — BaseURL at every level, SegmentTemplate with $RepresentationID$, $Bandwidth$, $Number$ and $Time$ (with `%0Nd` widths) over a SegmentTimeline or @duration, SegmentList (Initialization, SegmentURL; mediaRange parts of one URL are one row) and SegmentBase. Relative URIs are resolved against the manifest\'s URL; absolute ones may name any of the caller\'s own domains (one task per domain), never another account\'s (InvalidDomain.NotFound).',
  'ExpandManifest=true: a manifest that cannot be read (no origin, an HTTP status other than 2xx, a redirect, no complete answer within `manifests.timeoutMs` for all of the call\'s fetches together, larger than `manifests.maxBytes`) answers InvalidManifest.FetchFailed; one that cannot be expanded (not HLS or DASH, a live `type="dynamic"` MPD, playlists nested deeper than 3 levels, a non-http(s) URI, xlink) answers InvalidManifest.Malformed. Either way nothing is accepted or charged. Set the client\'s read timeout above `manifests.timeoutMs` (pop-core waits 3 s by default).',
  'ExpandManifest=true with ClientToken: a retry is matched on the paths as given, not on what the manifests expanded to, and gets the first call\'s tasks; the manifests are read again before that answer, so a retry while the origin cannot serve them answers InvalidManifest.FetchFailed (and accepts nothing).',
] as const;
