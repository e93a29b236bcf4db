import type { SubmitType } from '../domain/object-path.js';
import type { GroupVerify, VerifiedBy } from '../domain/records.js';

// How a node's outcome was established (probe, canary or ack): a record of the attempt, defined there.
export type { GroupVerify, VerifiedBy } from '../domain/records.js';

/**
 * The one interface every cache-server driver implements (docs/design.md, convention 6). A driver
 * turns one item of a task into requests to one node and reports a typed outcome; the worker
 * decides what happens next (retry with backoff, or record the node as applied or failed).
 */

/** Alibaba's three failure descriptions (seeds 001, 002, 004). */
export type FailureDescription = 'Internal Error' | 'Origin Timeout' | 'Origin Return StatusCode 5XX';

export type Outcome =
  | { kind: 'ok'; detail?: string; verifiedBy?: VerifiedBy }
  /** Try again later (node unreachable, timeout, 5xx from the node itself, still cached after a purge). */
  | { kind: 'retryable'; error: string; verifiedBy?: VerifiedBy }
  /** Will never succeed on this node (unsupported operation, origin 404, bad regex). */
  | { kind: 'permanent'; error: string; description: FailureDescription; verifiedBy?: VerifiedBy };

/** What a node's cache holds for a URL, as its probe sees it without fetching. */
export type ProbeState = 'hit' | 'stale' | 'miss';

export interface Inspection {
  state: ProbeState;
  /** The cached copy's age, when the node tells it. */
  ageSeconds?: number;
}

export interface EdgeJob {
  /** refresh: make the node drop or revalidate; preload: make the node fetch and store. */
  kind: 'refresh' | 'preload';
  objectType: SubmitType;
  /** Directory/Regex/IgnoreParams: true purges, false marks stale (revalidate) where the node can. */
  force: boolean;
  /** The path exactly as submitted, for messages. */
  objectPath: string;
  /** Domain the object belongs to: the Host header the node keys its cache on. */
  host: string;
  scheme: 'http' | 'https';
  /**
   * Path and query as the node sees it: `/a/b.css?v=1` (file, preload, ignoreparams),
   * `/static/` (directory), the regex source for the path, e.g. `/img/.*\.png` (regex), or the
   * tag itself (cachetag).
   */
  path: string;
  /** Preload only: extra request headers (WithHeader). */
  headers: Record<string, string[]>;
  /** The domain's origin base URL, for drivers that fetch it themselves (simulated). */
  origin: string | null;
  /**
   * Refresh only: the paths (and queries) on `host` of the task's VerifyUrl samples; verify.ts
   * probes those in the item's scope after the operation. Absent or empty: none given.
   */
  samples?: string[];
}

export interface EdgeNode {
  id: number;
  name: string;
  driver: string;
  /** `host:port` of the node's HTTP listener. */
  address: string;
  /** Driver-specific settings (e.g. nginx purge location, ATS config dir). */
  options: Record<string, unknown>;
  /** How outcomes are verified, from the node's group (default `probe`; edges/verify.ts). */
  verify?: GroupVerify;
}

export interface EdgeDriver {
  execute(node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome>;
  /** Is the object cached on the node? Never fetches it. Verification (verify.ts), node check, tests. */
  probe?(node: EdgeNode, host: string, path: string, signal?: AbortSignal): Promise<ProbeState>;
  /** The probe with the cached copy's age, where the node tells it (a copy younger than a purge is a refetch). */
  inspect?(node: EdgeNode, host: string, path: string, signal?: AbortSignal): Promise<Inspection>;
  /**
   * Start the operation and, where the node answers requests of one connection in order, the
   * probe of `path` right behind it, without waiting for the operation's answer (one round trip
   * instead of two); null when this job cannot be sent that way (verify.ts then runs them in turn).
   */
  executeThenInspect?(node: EdgeNode, job: EdgeJob, path: string, signal: AbortSignal): [Promise<Outcome>, Promise<Inspection>] | null;
}

/**
 * The answer of a cache that keeps no tags on its objects to a purge by tag: it cannot be done
 * there, now or later, so the node fails the item with the reason (and the item is Failed).
 */
export function cannotPurgeTags(node: EdgeNode, what: string): Outcome {
  return {
    kind: 'permanent',
    error: `${node.driver} node ${node.name} cannot purge by cache tag: ${what}. Serve the domain from Varnish with xkey, or refresh its URLs.`,
    description: 'Internal Error',
  };
}

/** Split an object path into what a node needs: scheme, host and path(+query) or regex. */
export function toEdgeTarget(objectPath: string): { scheme: 'http' | 'https'; host: string; path: string } {
  const m = /^(?:(https?):\/\/)?([^/?#]+)(.*)$/i.exec(objectPath);
  if (!m) throw new Error(`not an object path: ${objectPath}`);
  const host = m[2].toLowerCase().replace(/:\d+$/, '');
  const rest = m[3] === '' ? '/' : m[3].startsWith('/') ? m[3] : '/' + m[3];
  return { scheme: (m[1]?.toLowerCase() as 'http' | 'https') ?? 'http', host, path: rest };
}
