import { matchRegex } from '../domain/regex-match.js';
import { sampleInScope, withoutQuery } from '../domain/verify-url.js';
import { toEdgeTarget, type EdgeDriver, type EdgeJob, type EdgeNode, type Inspection, type Outcome } from './driver.js';
import { networkError } from './http-client.js';

/**
 * Probe-verified completion: the driver applies the operation, then, where it has a probe and
 * the node's group verifies by `probe` (the default), looks at the node's cache. A refresh
 * counts only when what it looks at is gone (or stale, for a soft purge: Force=false on a
 * directory, regex, IgnoreParams or cache tag); a preload only when it is a fresh hit. A node
 * that acknowledged but still serves it has failed this attempt (retried, then Failed), never
 * applied. What is looked at (verifyPlan): the object itself; the caller's sample URLs
 * (VerifyUrl) in the item's scope; for a Regex without samples, the node's canary when the rule
 * covers it; else nothing, and the node's answer is taken (`ack`).
 */
export async function executeVerified(driver: EdgeDriver, node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
  let plan = (node.verify ?? 'probe') === 'ack' || !driver.probe ? null : verifyPlan(node, job);
  // The canary counts only when the rule covers it (matched off this thread) and it is cached to be purged.
  if (plan?.what === 'canary' && !((await covers(job, plan.targets[0])) && (await warmed(driver, node, job, plan.targets[0], signal)))) plan = null;
  if (plan === null) {
    const outcome = await driver.execute(node, job, signal);
    return outcome.kind === 'ok' ? { ...outcome, verifiedBy: 'ack' } : outcome;
  }
  const started = Date.now();
  // Purge and first probe in one round trip where the node keeps their order, else one after the other.
  const both = driver.executeThenInspect?.(node, job, plan.targets[0], signal);
  // Settled either way, so a probe that fails while the operation is awaited is never unhandled.
  const probing = both?.[1].then((seen) => ({ seen }), (err: unknown) => ({ err }));
  const outcome = await (both ? both[0] : driver.execute(node, job, signal));
  if (outcome.kind !== 'ok') return outcome;
  const look = (path: string): Promise<Inspection> =>
    driver.inspect ? driver.inspect(node, job.host, path, signal) : driver.probe!(node, job.host, path, signal).then((state) => ({ state }));
  let seen: Inspection[];
  try {
    const early = await probing;
    if (early && 'err' in early) throw early.err;
    // Most plans look at one URL, which the early probe has looked at already.
    seen = early && plan.targets.length === 1 ? [early.seen] : await Promise.all(plan.targets.map((path, i) => (i === 0 && early ? early.seen : look(path))));
  } catch (err) {
    if (signal.aborted) return { kind: 'retryable', error: 'aborted' };
    return { kind: 'retryable', error: `${job.kind === 'preload' ? 'preload' : 'purge'} acknowledged but the probe failed: ${networkError(err)}`, verifiedBy: plan.by };
  }
  const elapsed = (Date.now() - started) / 1000;
  for (let i = 0; i < seen.length; i++) {
    const done = verdict(job, plan, plan.targets[i], seen[i], elapsed);
    if (done === null) continue;
    if (done.permanent) return { kind: 'permanent', error: done.error, description: 'Internal Error', verifiedBy: plan.by };
    return { kind: 'retryable', error: done.error, verifiedBy: plan.by };
  }
  return { ...outcome, verifiedBy: plan.by };
}

/** What a probe looks at after the operation, and how the outcome then counts as verified. */
interface VerifyPlan {
  /** Paths (and queries) on the job's host; never empty. */
  targets: string[];
  /** `object`: the job's own URL (or its directory's); `sample`: VerifyUrl samples; `canary`: the node's canary. */
  what: 'object' | 'sample' | 'canary';
  by: 'probe' | 'canary';
}

/**
 * null when there is nothing to look at: the outcome is the node's answer (`ack`). A `canary`
 * plan is a candidate: executeVerified checks that the Regex covers it before using it.
 */
export function verifyPlan(node: EdgeNode, job: EdgeJob): VerifyPlan | null {
  if (job.kind === 'preload' || job.objectType === 'file') return { targets: [job.path], what: 'object', by: 'probe' };
  const samples = (job.samples ?? []).filter((path) => sampleInScope(job.objectType, job.path, path));
  if (samples.length > 0) return { targets: samples, what: 'sample', by: 'probe' };
  if (job.objectType === 'ignoreparams') return { targets: [withoutQuery(job.path)], what: 'object', by: 'probe' };
  // The directory's own URL is one of its objects: xkey tags, bans and rules all cover it.
  if (job.objectType === 'directory') return { targets: [job.path.endsWith('/') ? job.path : job.path + '/'], what: 'object', by: 'probe' };
  if (job.objectType === 'regex') {
    const canary = canaryPath(node, job);
    if (canary !== null) return { targets: [canary], what: 'canary', by: 'canary' };
  }
  // A cache tag names objects only the origin knows, and a regex that covers no canary names none.
  return null;
}

/** The path of the node's canary (option `canary`, as `node check` uses it) when it is on the job's domain. */
function canaryPath(node: EdgeNode, job: EdgeJob): string | null {
  const url = node.options.canary;
  if (typeof url !== 'string') return null;
  let target;
  try {
    target = toEdgeTarget(url);
  } catch {
    return null;
  }
  return target.host === job.host ? target.path : null;
}

/** Whether the job's Regex matches this path, as the caches anchor it (false when matching ran out of time). */
async function covers(job: EdgeJob, path: string): Promise<boolean> {
  return (await matchRegex(job.path, [path]))?.[0] === true;
}

/**
 * Fetch the canary through the node so the purge has it to evict (a probe of an object that was
 * never cached proves nothing): true when the node then holds it fresh.
 */
async function warmed(driver: EdgeDriver, node: EdgeNode, job: EdgeJob, path: string, signal: AbortSignal): Promise<boolean> {
  const warm: EdgeJob = { ...job, kind: 'preload', objectType: 'preload', force: false, objectPath: `${job.host}${path}`, path, headers: {}, samples: undefined };
  try {
    if ((await driver.execute(node, warm, signal)).kind !== 'ok') return false;
    return (await driver.probe!(node, job.host, path, signal)) === 'hit';
  } catch {
    return false;
  }
}

/** null when the probe shows what the operation promised; else the node's failure. */
function verdict(job: EdgeJob, plan: VerifyPlan, path: string, seen: Inspection, elapsedSeconds: number): { error: string; permanent: boolean } | null {
  const where = `${job.host}${path}`;
  if (job.kind === 'preload') {
    if (seen.state === 'hit') return null;
    // The node fetched it and did not keep it (an uncacheable answer): retrying cannot change that.
    return { error: `preload answered but ${where} is not cached (probe: ${seen.state.toUpperCase()}): the origin's answer is not cacheable there`, permanent: true };
  }
  if (seen.state === 'miss') return null;
  const soft = job.objectType !== 'file' && !job.force;
  if (seen.state === 'stale' && soft) return null;
  // A client may have fetched the object again between the purge and the probe: a copy younger
  // than the purge is the new one, not one the purge missed.
  if (seen.state === 'hit' && seen.ageSeconds !== undefined && seen.ageSeconds < elapsedSeconds) return null;
  const state = seen.state.toUpperCase();
  if (plan.what === 'object') return { error: `purge acknowledged but object still cached (probe of ${where}: ${state})`, permanent: false };
  return { error: `purge acknowledged but ${plan.what === 'canary' ? 'the canary ' : ''}${where} still cached (probe: ${state})`, permanent: false };
}
