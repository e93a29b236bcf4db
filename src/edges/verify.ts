import type { EdgeDriver, EdgeJob, EdgeNode, Inspection, Outcome } from './driver.js';
import { networkError } from './http-client.js';

/**
 * Probe-verified completion: the driver applies the operation, then, where it has a probe and
 * the node's group verifies by `probe` (the default), looks at the node's cache. A refresh
 * counts only when the object is gone (or stale, for a soft purge: Force=false on a directory,
 * regex or IgnoreParams); a preload only when it is a fresh hit. A node that acknowledged but
 * still serves the object has failed this attempt (retried, then Failed), never applied.
 * Regex purges name no URL to look at: they are taken at the node's word (`ack`).
 */
export async function executeVerified(driver: EdgeDriver, node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
  const started = Date.now();
  const target = probeTarget(job);
  if ((node.verify ?? 'probe') === 'ack' || !driver.probe || target === null) {
    const outcome = await driver.execute(node, job, signal);
    return outcome.kind === 'ok' ? { ...outcome, verifiedBy: 'ack' } : outcome;
  }
  // Purge and probe in one round trip where the node keeps their order, else one after the other.
  const both = driver.executeThenInspect?.(node, job, target, signal);
  // Settled either way, so a probe that fails while the operation is awaited is never unhandled.
  const probing = both?.[1].then((seen) => ({ seen }), (err: unknown) => ({ err }));
  const outcome = await (both ? both[0] : driver.execute(node, job, signal));
  if (outcome.kind !== 'ok') return outcome;
  let seen: Inspection;
  try {
    const early = await probing;
    if (early && 'err' in early) throw early.err;
    seen = early?.seen ?? (driver.inspect ? await driver.inspect(node, job.host, target, signal) : { state: await driver.probe(node, job.host, target, signal) });
  } catch (err) {
    if (signal.aborted) return { kind: 'retryable', error: 'aborted' };
    return { kind: 'retryable', error: `${job.kind === 'preload' ? 'preload' : 'purge'} acknowledged but the probe failed: ${networkError(err)}`, verifiedBy: 'probe' };
  }
  const done = verdict(job, seen, (Date.now() - started) / 1000);
  if (done === null) return { ...outcome, verifiedBy: 'probe' };
  if (done.permanent) return { kind: 'permanent', error: done.error, description: 'Internal Error', verifiedBy: 'probe' };
  return { kind: 'retryable', error: done.error, verifiedBy: 'probe' };
}

/** The URL path a probe looks at after the operation, or null when there is none to look at. */
export function probeTarget(job: EdgeJob): string | null {
  if (job.kind === 'preload' || job.objectType === 'file') return job.path;
  if (job.objectType === 'ignoreparams') return job.path.replace(/[?#].*$/, '');
  // The directory's own URL is one of its objects: xkey tags, bans and rules all cover it.
  if (job.objectType === 'directory') return job.path.endsWith('/') ? job.path : job.path + '/';
  return null;
}

/** null when the probe shows what the operation promised; else the node's failure. */
function verdict(job: EdgeJob, seen: Inspection, elapsedSeconds: number): { error: string; permanent: boolean } | null {
  const where = `${job.host}${probeTarget(job)}`;
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
  return { error: `purge acknowledged but object still cached (probe of ${where}: ${seen.state.toUpperCase()})`, permanent: false };
}
