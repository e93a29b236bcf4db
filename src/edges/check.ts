import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { CacheKind } from './diagnose.js';
import { toEdgeTarget, type EdgeDriver, type EdgeJob, type EdgeNode, type Outcome, type ProbeState } from './driver.js';
import { networkError, type EdgeHttpClient } from './http-client.js';

/**
 * `refreshd node check`: prove a node end to end with a canary object, the way its tasks will
 * use it. Reachable; the probe answers as refreshd's configuration does; the canary, fetched
 * through the node, is cached; a purge is accepted AND evicts it; then what the driver uses
 * beyond single purges (Varnish: BAN and xkey; ATS and Squid: their on-box pattern purge when
 * configured). The first failure ends the check with one sentence naming the cause and the fix.
 */
export interface CheckStep {
  step: string;
  ok: boolean;
  detail: string;
}

export interface CheckReport {
  node: string;
  driver: string;
  address: string;
  ok: boolean;
  canary: string | null;
  steps: CheckStep[];
  /** The failure, as one sentence (cause and fix); absent when every step passed. */
  diagnosis?: string;
}

class Failed extends Error {}

export async function checkNode(driver: EdgeDriver | undefined, node: EdgeNode, canary: string | null, http: EdgeHttpClient): Promise<CheckReport> {
  const report: CheckReport = { node: node.name, driver: node.driver, address: node.address, ok: false, canary, steps: [] };
  const pass = (step: string, detail: string) => report.steps.push({ step, ok: true, detail });
  try {
    if (!driver) throw new Failed(`${node.name} names driver "${node.driver}", which this refreshd does not have: remove the node and add it with a known --driver`);
    if (node.driver === 'simulated') {
      pass('simulated', 'a simulated node has no cache behind it: its tasks complete without touching one (`refreshd node remove --simulated` drops the built-in fleet)');
      report.ok = true;
      return report;
    }
    if (!canary) throw new Failed(`no canary for ${node.name}: give --url http://DOMAIN/PATH of an object its origin serves cacheably, or map a domain to group of the node`);
    const { host, path } = toEdgeTarget(canary);
    const signal = AbortSignal.timeout(30_000);
    const job = (over: Partial<EdgeJob>): EdgeJob => ({
      kind: 'refresh', objectType: 'file', force: true, objectPath: canary, host, scheme: 'http', path, headers: {}, origin: null, ...over,
    });
    const run = async (step: string, j: EdgeJob) => {
      const o: Outcome = await driver.execute(node, j, signal);
      if (o.kind !== 'ok') throw new Failed(o.error);
      return o.detail ?? 'ok';
    };
    const probe = async (): Promise<ProbeState> => {
      try {
        return await driver.probe!(node, host, path, signal);
      } catch (err) {
        throw new Failed(err instanceof Error ? err.message : String(err));
      }
    };
    try {
      await connectTo(node.address, 5_000);
      pass('reachable', `${node.address} accepts connections`);
    } catch (err) {
      throw new Failed(`${node.name} (${node.address}) is unreachable (${networkError(err)}): start the cache, or fix the node's address`);
    }
    if (!driver.probe) throw new Failed(`driver ${node.driver} has no probe: nothing can be verified on ${node.name}`);
    pass('probe', `answered ${await probe()} for ${canary}`);
    const warm = async () => {
      await run('warm', job({ kind: 'preload', objectType: 'preload' }));
      const state = await probe();
      if (state !== 'hit') {
        throw new Failed(`the canary ${canary} was fetched through ${node.name} but is not cached (probe: ${state.toUpperCase()}): give --url of an object the origin serves cacheably (Cache-Control: public, max-age > 0)`);
      }
    };
    await warm();
    pass('warm', `${canary} fetched through the node and cached (probe: HIT)`);
    pass('purge', `accepted: ${await run('purge', job({}))}`);
    const after = await probe();
    if (after !== 'miss') {
      throw new Failed(`PURGE was acknowledged but the canary is still cached (probe: ${after.toUpperCase()}): ${node.name} answers PURGE without evicting; load \`refreshd edge config ${node.driver}\` on it`);
    }
    pass('evicted', 'the canary is gone (probe: MISS)');
    for (const extra of extras(node)) {
      if (extra.warm) await warm();
      const detail = await run(extra.step, job(extra.job(path)));
      if (extra.warm && (await probe()) !== 'miss') {
        throw new Failed(`${extra.step} was acknowledged but the canary is still cached on ${node.name}: load \`refreshd edge config ${node.driver}\` on it`);
      }
      pass(extra.step, detail);
    }
    report.ok = true;
  } catch (err) {
    if (!(err instanceof Failed)) throw err;
    report.diagnosis = err.message;
    report.steps.push({ step: 'failed', ok: false, detail: err.message });
  }
  return report;
}

interface Extra {
  step: string;
  /** Warm the canary first and expect it gone after (false: the operation must only be accepted). */
  warm: boolean;
  job(path: string): Partial<EdgeJob>;
}

const exact = (path: string) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';

/** What each driver uses beyond single-URL purges, proven on the canary alone (no collateral). */
function extras(node: EdgeNode): Extra[] {
  const kind = node.driver as CacheKind;
  const regex: Extra = { step: 'regex purge', warm: true, job: (path) => ({ objectType: 'regex', path: exact(path) }) };
  if (kind === 'varnish') {
    const none = `/refreshd-check-${randomBytes(4).toString('hex')}/`;
    // BAN on exactly the canary; an xkey purge of a directory nothing is in (the vmod must answer).
    return [{ ...regex, step: 'BAN' }, { step: 'xkey', warm: false, job: () => ({ objectType: 'directory', path: none }) }];
  }
  if (kind === 'ats' && typeof node.options.regexRevalidateConfig === 'string') return [{ ...regex, step: 'regex_revalidate' }];
  if (kind === 'squid' && node.options.squidPurge) return [{ ...regex, step: 'squid-purge' }];
  return [];
}

/** A TCP connection to `host:port` within `ms` (reachability alone: nothing is asked of the origin). */
function connectTo(address: string, ms: number): Promise<void> {
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(address);
  if (!m) return Promise.reject(new Error(`not host:port: ${address}`));
  return new Promise((resolve, reject) => {
    const sock = connect({ host: m[1], port: Number(m[2]), timeout: ms });
    sock.once('connect', () => (sock.destroy(), resolve()));
    sock.once('timeout', () => (sock.destroy(), reject(Object.assign(new Error(`no connection in ${ms} ms`), { code: 'ETIMEDOUT' }))));
    sock.once('error', (err) => (sock.destroy(), reject(err)));
  });
}
