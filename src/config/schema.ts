/**
 * The one definition of every configuration key: its type, range, default and meaning. The
 * `--config` file, the environment and the flags are all checked against it (config.ts), `refreshd
 * config show` prints it with each value's source, and docs/configuration.md is generated from it.
 */

export type Kind = 'integer' | 'number' | 'boolean' | 'string' | 'hostport' | 'range' | 'enum';

export interface Key {
  kind: Kind;
  default: unknown;
  doc: string;
  /** Inclusive bounds for integer, number and range values. */
  min?: number;
  max?: number;
  /** enum: the accepted values. */
  values?: readonly string[];
  /** string: what a value must look like, and how to say so. */
  pattern?: { re: RegExp; says: string };
  /** Environment variable; by default REFRESHD_ and the path in upper snake case. */
  env?: string;
  /** A command-line flag that sets it (on the commands that take it). */
  flag?: string;
  /** May be left unset (default undefined). */
  optional?: boolean;
}

export interface Group {
  [name: string]: Key | Group;
}

const int = (def: number, min: number, max: number, doc: string, more: Partial<Key> = {}): Key => ({ kind: 'integer', default: def, min, max, doc, ...more });
const MS_DAY = 86_400_000;

function quotas(product: 'CDN' | 'VOD', d: { url: number; dir: number; preload: number }): Group {
  const q = (def: number, what: string) => int(def, 0, 100_000_000, `${product}: ${what} per account and UTC day.`);
  return {
    url: q(d.url, 'URLs refreshed (ObjectType File)'),
    dir: q(d.dir, 'directories refreshed'),
    regex: q(20, 'regex refreshes'),
    ignoreParams: q(d.url, 'IgnoreParams refreshes'),
    preload: q(d.preload, 'URLs preloaded'),
    preloadEdge: q(d.preload, 'edge-only preloads (reported, counted with preload)'),
    block: q(100, 'URL blocks (reported only)'),
  };
}

export const SCHEMA: Group = {
  listen: {
    kind: 'hostport', default: { host: '127.0.0.1', port: 7070 }, flag: '--listen',
    doc: 'Address the API server listens on, `HOST:PORT` (port 0: any free port).',
  },
  metricsListen: {
    kind: 'hostport', default: undefined, optional: true, flag: '--metrics-listen',
    doc: 'Serve `/metrics` on this `HOST:PORT` instead of the API port (which then answers it 404): it sums every tenant\'s quota use.',
  },
  http: {
    maxHeaderBytes: int(128 * 1024, 16 * 1024, 16 * 1024 * 1024, 'Request line plus headers, bytes (a 1,000-URL pop-core GET with typical URLs is ~92 KB). Beyond: RequestHeaderTooLarge.'),
    maxBodyBytes: int(3 * 1024 * 1024 + 64 * 1024, 64 * 1024, 64 * 1024 * 1024, 'A form body, bytes (1,000 paths of 1,024 characters, all percent-encoded). Beyond: RequestBodyTooLarge.'),
    maxParams: int(100, 32, 10_000, 'Parameters in the query and body together. Beyond: InvalidParameter.'),
    headersTimeoutMs: int(10_000, 100, 600_000, 'Time to send the request headers, ms. Beyond: RequestTimeout.'),
    requestTimeoutMs: int(30_000, 100, 3_600_000, 'Time to send the whole request, ms (at least headersTimeoutMs). Beyond: RequestTimeout.'),
    keepAliveTimeoutMs: int(65_000, 1, 3_600_000, 'How long an idle keep-alive connection is kept, ms.'),
    maxConnections: int(2_000, 1, 1_000_000, 'Open connections the API port holds at once; more are closed as they arrive.'),
  },
  waitForTasksPerKey: int(20, 1, 100_000, 'WaitForTasks calls one AccessKey may hold open at once, per API process. Beyond: Throttling.'),
  dataDir: {
    kind: 'string', default: './data', env: 'REFRESHD_DATA', flag: '--data',
    doc: 'Directory of the embedded SQLite store and of `master.key`. A relative path in a config file is relative to that file.',
  },
  store: {
    kind: 'string', default: undefined, optional: true, flag: '--store',
    pattern: { re: /^postgres(ql)?:\/\//, says: 'a postgres:// URL' },
    doc: '`postgres://…` to use PostgreSQL instead of the embedded store.',
  },
  logLevel: {
    kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'Least severe log level written (JSON lines on stdout).',
  },
  rateLimits: {
    kind: 'boolean', default: true, flag: '--no-rate-limit',
    doc: 'Per-user, per-action API rate limits (off only for load tests).',
  },
  quotas: {
    cdn: quotas('CDN', { url: 10_000, dir: 100, preload: 1_000 }),
    vod: quotas('VOD', { url: 2_000, dir: 100, preload: 500 }),
  },
  perMinutePerDomain: int(1_000, 1, 10_000_000, 'Refresh URLs one domain may take per minute.'),
  manifests: {
    maxUrls: int(10_000, 1, 1_000_000, 'URLs one `ExpandManifest` preload may expand to (manifests, segments and init segments of all its paths). Beyond: the call is refused whole (SingleRequest.OverLimit, naming how many it would need).'),
    maxFetches: int(100, 1, 10_000, 'Manifests (the submitted ones and the playlists they name) one `ExpandManifest` preload may fetch from the origins. Beyond: SingleRequest.OverLimit.'),
    maxBytes: int(4 * 1024 * 1024, 1024, 64 * 1024 * 1024, 'Largest manifest refreshd reads from an origin, bytes. Beyond: InvalidManifest.FetchFailed.'),
    timeoutMs: int(5_000, 100, 600_000, 'Time limit of all the manifest fetches of one `ExpandManifest` preload together, ms (the call answers within it). Beyond: InvalidManifest.FetchFailed.'),
  },
  preloadQueue: int(100_000, 1, 100_000_000, 'Unfinished preload rows an account may have queued.'),
  signatureSkewMs: int(15 * 60_000, 1_000, MS_DAY, 'Allowed client clock skew for signed requests, ms.'),
  queryWindowDays: int(3, 1, 365, 'Days of tasks the Describe actions can see.'),
  retentionDays: int(3, 1, 365, 'Days tasks and webhook deliveries are kept (at least queryWindowDays).'),
  auditRetentionDays: int(30, 1, 3_650, 'Days the audit log keeps each API call.'),
  engine: {
    maxAttempts: int(5, 1, 100, 'Attempts per node before an item is Failed on that node.'),
    retryBaseMs: int(1_000, 1, 3_600_000, 'First retry delay, ms; doubles per attempt (with jitter), capped at a minute.'),
    leaseMs: int(30_000, 100, 3_600_000, 'How long a claimed attempt stays leased unless its worker renews it, ms.'),
    maxInFlight: int(512, 1, 100_000, 'Attempts one worker process runs at once, over all nodes.'),
    perNodeConcurrency: int(8, 1, 1_000, 'Requests one node gets at once (a node\'s `concurrency` option overrides it).'),
    pollMs: int(500, 1, 60_000, 'Idle poll interval for due retries, ms; new work wakes workers at once.'),
    requestTimeoutMs: int(10_000, 1, 600_000, 'Time limit of one request to a cache node or origin, ms.'),
    attemptTimeoutMs: int(25_000, 1, 3_600_000, 'Time limit of one attempt, all of a driver\'s requests and steps together, ms (at least requestTimeoutMs); past it the attempt is retried.'),
    simulatedNodes: int(8, 0, 1_000, 'Simulated nodes created on first start when the store has no nodes (0: none).'),
    simulatedLatencyMs: {
      kind: 'range', default: [300, 3_000], min: 0, max: 600_000,
      doc: 'Each simulated operation\'s latency, `[min, max]` ms (env: `min,max`).',
    },
    simulatedFailureRate: { kind: 'number', default: 0, min: 0, max: 1, doc: 'Share of simulated operations that fail and are retried (failure injection).' },
  },
  webhooks: {
    pollMs: int(200, 1, 60_000, 'How often each worker process looks for finished tasks and due deliveries, ms.'),
    timeoutMs: int(10_000, 1, 600_000, 'One POST\'s time limit, connect to last byte, ms.'),
    maxAttempts: int(8, 1, 100, 'Attempts per delivery before it is failed for good.'),
    retryBaseMs: int(1_000, 1, 3_600_000, 'First retry delay, ms; doubles per attempt (with jitter) up to retryMaxMs.'),
    retryMaxMs: int(10 * 60_000, 1, MS_DAY, 'Longest retry delay, ms.'),
    leaseMs: int(30_000, 2, 3_600_000, 'How long a claimed delivery is held, ms (longer than timeoutMs).'),
    maxInFlight: int(32, 1, 10_000, 'POSTs one worker process has in flight at once.'),
    finishBatch: int(500, 1, 100_000, 'Unfinished tasks looked at per poll.'),
  },
};

export const isKey = (x: Key | Group): x is Key => typeof (x as Key).kind === 'string' && 'doc' in x;

/** Every key with its dotted path, in schema order. */
export function keys(group: Group = SCHEMA, prefix = ''): [string, Key][] {
  return Object.entries(group).flatMap(([name, v]): [string, Key][] => (isKey(v) ? [[prefix + name, v]] : keys(v, `${prefix}${name}.`)));
}

/** engine.maxAttempts → REFRESHD_ENGINE_MAX_ATTEMPTS, unless the key names its own. */
export function envName(path: string, key: Key): string {
  return key.env ?? `REFRESHD_${path.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/**
 * REFRESHD_ variables that are not configuration keys: the client's profile, secrets, the config
 * file's path. Anything else starting REFRESHD_ must be a key's variable (REFRESHD_TEST_ is the
 * test suite's own).
 */
export const OTHER_ENV = ['REFRESHD_CONFIG', 'REFRESHD_ENDPOINT', 'REFRESHD_ACCESS_KEY_ID', 'REFRESHD_ACCESS_KEY_SECRET', 'REFRESHD_MASTER_KEY', 'REFRESHD_PROFILE'];
