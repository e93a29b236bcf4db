import type { Credential, IdentityStore } from './port.js';

/**
 * How long a credential read by one API call may serve the next ones, in ms: the longest a key
 * disabled or deleted, or an account suspended, by ANOTHER process (a CLI command on the same
 * SQLite file, another API process on PostgreSQL) keeps working in this one. A change made
 * through this process's own store object shows at once (the cache is dropped).
 */
export const CREDENTIAL_TTL_MS = 1_000;
/** At most this many credentials are held; only keys that exist are ever cached. */
export const CREDENTIALS_MAX = 10_000;

/** The identity role's reads: everything else is a write and drops the cache. */
const READS = new Set([
  'getAccount', 'findAccountByName', 'listAccounts', 'findAccessKey', 'listAccessKeys', 'findUser', 'listUsers', 'findPolicy',
  'listPolicies', 'policiesOfUser', 'listAttachments', 'findCredential',
]);

/**
 * Every call reads its key and account (docs/benchmarks.md, "Where a Describe call's time goes":
 * two statements were ~11 % of a Describe call). This keeps what `findCredential` found for
 * CREDENTIAL_TTL_MS in a map bounded to CREDENTIALS_MAX entries (the oldest goes first), so a
 * busy key costs one read a second. Misses are not kept, so a caller naming random keys gets a
 * read per call, as before, and cannot grow the map; a new key works at once. Any write through
 * this role (a key disabled, deleted or added; a service state; a user removed) drops the whole
 * map, and a read that began before a write does not store its result.
 */
export class CredentialCache {
  private readonly entries = new Map<string, { credential: Credential; until: number }>();
  /** Bumped by every write, so a read that overlapped one is not kept. */
  private generation = 0;

  constructor(
    private readonly ttlMs = CREDENTIAL_TTL_MS,
    private readonly max = CREDENTIALS_MAX,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async find(accessKeyId: string, read: (id: string) => Promise<Credential | undefined>): Promise<Credential | undefined> {
    const hit = this.entries.get(accessKeyId);
    if (hit !== undefined) {
      if (hit.until > this.clock()) return hit.credential;
      this.entries.delete(accessKeyId);
    }
    const generation = this.generation;
    const until = this.clock() + this.ttlMs;
    const credential = await read(accessKeyId);
    if (credential === undefined || generation !== this.generation) return credential;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(accessKeyId, { credential, until });
    return credential;
  }

  /** Before and after every write: what was read before it may be stale. */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

/**
 * The identity role with `findCredential` served through a CredentialCache and every write
 * dropping it (before it runs, and again once it is done). The role may be a class instance or
 * the plain object busyAware makes of one.
 */
export function cachingCredentials(role: IdentityStore, cache = new CredentialCache()): IdentityStore {
  const out: Record<string, unknown> = {};
  for (const name of methodNames(role)) {
    const method = (role as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
    if (name === 'findCredential') out[name] = (id: string) => cache.find(id, (k) => role.findCredential(k));
    else if (READS.has(name)) out[name] = (...args: unknown[]) => method.apply(role, args);
    else {
      out[name] = async (...args: unknown[]) => {
        cache.clear();
        try {
          return await method.apply(role, args);
        } finally {
          cache.clear();
        }
      };
    }
  }
  return out as unknown as IdentityStore;
}

function methodNames(role: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = role; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name !== 'constructor' && typeof (role as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return [...names];
}
