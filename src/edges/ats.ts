import { execFile } from 'node:child_process';
import { chown, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { diagnosePurge, diagnoseProbe } from './diagnose.js';
import { cannotPurgeTags, type EdgeDriver, type EdgeJob, type EdgeNode, type Outcome, type ProbeState } from './driver.js';
import { networkError, type EdgeHttpClient } from './http-client.js';
import { preloadThrough } from './preload-through.js';

/**
 * Driver for Apache Traffic Server 9.2 as a reverse proxy (docs/caches.md; config from `refreshd edge config ats`).
 *
 * - File: `PURGE <path>` with the domain's Host; ATS removes every Vary alternate. 404 from the
 *   cache means "not cached" (success); 404 "Not Found on Accelerator" means the node has no
 *   remap rule for the Host, which is a node misconfiguration, not a purge.
 * - Directory, Regex, IgnoreParams: a regex_revalidate rule `<PCRE> <expiry> [MISS]` appended to
 *   the plugin's file, then `traffic_ctl config reload`. This driver must then run ON THE ATS HOST
 *   (file access and traffic_ctl), with node.options:
 *     regexRevalidateConfig  the file given to the plugin's -c
 *     runroot                TS_RUNROOT for traffic_ctl (the runroot.yaml)
 *     originBase             the remapped origin URL base: a string, or { host: base } per domain.
 *                            Rules match the REMAPPED origin URL (ATS's cache key), not the
 *                            client URL, so the driver must know what each domain maps to.
 *     regexRevalidateState   optional: the plugin's -f state file; the driver waits until the rule
 *                            shows up there, so "ok" means the rule is live
 *     ruleTtlSeconds         optional (default 86400): rule lifetime. Objects cached before the
 *                            rule and kept longer than this come back when it expires.
 *   force=true writes MISS (refetch); force=false leaves the default STALE (conditional
 *   revalidation: the soft purge). Without these options the types fail permanently.
 * - Preload: GET through the node. Probe: `Cache-Control: only-if-cached` + `X-Debug: X-Cache`
 *   (xdebug plugin): hit-fresh / hit-stale / miss. Caveat measured (docs/caches.md): on a STALE object
 *   the probe itself makes ATS revalidate it with the origin.
 */
export const ATS_NEEDS_ON_BOX = 'ats prefix/regex purge needs regex_revalidate on the ATS host';

export class AtsDriver implements EdgeDriver {
  /** One writer per rules file: edits are serialized and batched so concurrent rules never clobber. */
  private readonly files = new Map<string, RegexRevalidateFile>();

  constructor(private readonly http: EdgeHttpClient) {}

  async execute(node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
    if (job.kind === 'preload') return preloadThrough(this.http, node, job, signal);
    if (job.objectType === 'cachetag') return cannotPurgeTags(node, 'Traffic Server keeps no tags on cached objects');
    if (job.objectType === 'file') return this.purge(node, job, signal);
    return this.revalidate(node, job);
  }

  async probe(node: EdgeNode, host: string, path: string, signal?: AbortSignal): Promise<ProbeState> {
    const res = await this.http.send(node.address, { method: 'GET', path, headers: { host, 'cache-control': 'only-if-cached', 'x-debug': 'X-Cache' }, signal });
    const state = String(res.headers['x-cache'] ?? '');
    if (state === 'hit-fresh') return 'hit';
    if (state === 'hit-stale') return 'stale';
    if (state === 'miss') return 'miss';
    throw new Error(diagnoseProbe('ats', node, res));
  }

  private async purge(node: EdgeNode, job: EdgeJob, signal: AbortSignal): Promise<Outcome> {
    try {
      const res = await this.http.send(node.address, { method: 'PURGE', path: job.path, headers: { host: job.host }, signal });
      if (res.text.includes('Not Found on Accelerator')) {
        return { kind: 'permanent', error: diagnosePurge('ats', node, 'PURGE', res).replace('this domain', job.host), description: 'Internal Error' };
      }
      if (res.status === 200) return { kind: 'ok', detail: 'purged' };
      if (res.status === 404) return { kind: 'ok', detail: 'not cached' };
      if (res.status >= 500) return { kind: 'retryable', error: `PURGE answered ${res.status} on ${node.name}` };
      return { kind: 'permanent', error: diagnosePurge('ats', node, 'PURGE', res), description: 'Internal Error' };
    } catch (err) {
      return { kind: 'retryable', error: `purge on ${node.name}: ${networkError(err)}` };
    }
  }

  private async revalidate(node: EdgeNode, job: EdgeJob): Promise<Outcome> {
    const o = node.options;
    const base = originBaseFor(node, job.host);
    if (typeof o.regexRevalidateConfig !== 'string' || typeof o.runroot !== 'string' || base === null) {
      return {
        kind: 'permanent',
        error: `${ATS_NEEDS_ON_BOX}: node ${node.name} needs options.regexRevalidateConfig, options.runroot and options.originBase for ${job.host} to refresh ${job.objectType} ${job.objectPath}`,
        description: 'Internal Error',
      };
    }
    let regex: string;
    try {
      regex = ruleRegex(base, job);
    } catch (err) {
      return { kind: 'permanent', error: `${job.objectPath}: ${(err as Error).message}`, description: 'Internal Error' };
    }
    const ttl = typeof o.ruleTtlSeconds === 'number' && o.ruleTtlSeconds > 0 ? o.ruleTtlSeconds : 86_400;
    const rule: RevalidateRule = { regex, expiry: Math.floor(Date.now() / 1000) + ttl, miss: job.force };
    let file = this.files.get(o.regexRevalidateConfig);
    if (!file) {
      file = new RegexRevalidateFile(o.regexRevalidateConfig, o.runroot, typeof o.regexRevalidateState === 'string' ? o.regexRevalidateState : null);
      this.files.set(o.regexRevalidateConfig, file);
    }
    try {
      await file.add(rule);
      return { kind: 'ok', detail: `regex_revalidate ${rule.miss ? 'MISS' : 'STALE'} ${regex}` };
    } catch (err) {
      const why = err instanceof RuleNotLoaded ? err.message : networkError(err);
      return { kind: 'retryable', error: `regex_revalidate on ${node.name}: ${why}` };
    }
  }
}

/** options.originBase: one base for every domain, or a map per domain; no trailing slash. */
function originBaseFor(node: EdgeNode, host: string): string | null {
  const o = node.options.originBase;
  const base = typeof o === 'string' ? o : o && typeof o === 'object' ? (o as Record<string, unknown>)[host] : undefined;
  return typeof base === 'string' && /^https?:\/\/[^/]+/.test(base) ? base.replace(/\/+$/, '') : null;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The PCRE for a job, on the remapped origin URL. Whitespace is written as \x{NN} because the
 * plugin's file format separates fields by whitespace.
 */
export function ruleRegex(originBase: string, job: Pick<EdgeJob, 'objectType' | 'path'>): string {
  const base = '^' + escapeRegex(originBase);
  let regex: string;
  if (job.objectType === 'directory') regex = base + escapeRegex(job.path);
  else if (job.objectType === 'ignoreparams') regex = `${base}${escapeRegex(job.path.split('?')[0])}(\\?.*)?$`;
  else if (job.objectType === 'regex') {
    const source = job.path.replace(/^\^/, '');
    try {
      new RegExp(source);
    } catch {
      throw new Error(`invalid regular expression ${source}`);
    }
    // job.path is the regex for the path from its first '/': anchor it right after the origin base.
    regex = `${base}(?:${source})`;
  } else throw new Error(`no regex_revalidate rule for ${job.objectType}`);
  regex = regex.replace(/\s/g, (c) => `\\x{${c.codePointAt(0)!.toString(16)}}`);
  if (regex.length > 1800) throw new Error('rule longer than regex_revalidate accepts (LINE_MAX 2048)');
  return regex;
}

interface RevalidateRule {
  regex: string;
  /** Epoch seconds after which the plugin drops the rule. */
  expiry: number;
  /** MISS (refetch) rather than the default STALE (revalidate). */
  miss: boolean;
}

class RuleNotLoaded extends Error {}

/** A rule line: `<regex> <expiry> [MISS|STALE]` (the plugin's own parse, regex_revalidate.c). */
const RULE_LINE = /^([^#\s]\S*)\s+(\d+)(?:\s+(\w+))?\s*$/;

/**
 * Serialized, batched edits of one regex_revalidate file. Rules queued while an edit is in
 * flight go into the next edit together, so one reload serves many of them. Three plugin
 * behaviours shape each edit:
 * - It re-reads the file only when its mtime (whole seconds) is newer than at the last load,
 *   so two edits in the same second would silently drop the second: wait for the next second.
 * - Every reload re-reads every line, and two lines with the same regex but different expiry or
 *   type reset that rule's epoch each time (re-purging it on every later reload): keep one line
 *   per regex, and give a repeated regex a later expiry so the plugin renews its epoch.
 * - Expired lines are dead weight: drop them.
 */
class RegexRevalidateFile {
  private pending: { rule: RevalidateRule; done: (err?: unknown) => void }[] = [];
  private draining = false;

  constructor(private readonly path: string, private readonly runroot: string, private readonly statePath: string | null) {}

  add(rule: RevalidateRule): Promise<void> {
    const result = new Promise<void>((resolve, reject) => {
      this.pending.push({ rule, done: (err) => (err === undefined ? resolve() : reject(err)) });
    });
    if (!this.draining) {
      this.draining = true;
      void this.drain();
    }
    return result;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        let batch: typeof this.pending = [];
        try {
          const mtime = await this.nextMtime();
          // Everything queued while waiting for the next second goes into this one edit.
          batch = this.pending.splice(0);
          await this.apply(batch.map((b) => b.rule), mtime);
          for (const b of batch) b.done();
        } catch (err) {
          if (batch.length === 0) batch = this.pending.splice(0);
          for (const b of batch) b.done(err ?? new Error('regex_revalidate edit failed'));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Wait until the clock is past the file's mtime second; returns the mtime for the next edit. */
  private async nextMtime(): Promise<number> {
    const lastSecond = Math.floor((await stat(this.path)).mtimeMs / 1000);
    const wait = (lastSecond + 1) * 1000 - Date.now();
    // (An mtime far in the future, set by someone else, is not worth waiting for: step past it.)
    if (wait > 0 && wait <= 1000) await sleep(wait + 5);
    return Math.max(Date.now() / 1000, lastSecond + 1);
  }

  private async apply(rules: RevalidateRule[], now: number): Promise<void> {
    const before = await stat(this.path);
    const fresh = new Map<string, RevalidateRule>();
    for (const r of rules) {
      // The same regex twice in one batch: one line, MISS if either asked for it.
      const seen = fresh.get(r.regex);
      fresh.set(r.regex, { ...r, miss: r.miss || (seen?.miss ?? false), expiry: Math.max(r.expiry, seen?.expiry ?? 0) });
    }
    const kept: string[] = [];
    for (const line of (await readFile(this.path, 'utf8')).split('\n')) {
      const m = RULE_LINE.exec(line);
      if (!m) {
        if (line.trim() !== '') kept.push(line);
        continue;
      }
      const expiry = Number(m[2]);
      const replacement = fresh.get(m[1]);
      if (replacement && replacement.expiry <= expiry) replacement.expiry = expiry + 1;
      if (!replacement && expiry > now) kept.push(line);
    }
    for (const r of fresh.values()) kept.push(`${r.regex} ${r.expiry}${r.miss ? ' MISS' : ''}`);
    // Write a sibling and rename it in, keeping the owner (the plugin runs as trafficserver).
    const tmp = `${this.path}.refreshd-${process.pid}`;
    await writeFile(tmp, kept.join('\n') + '\n', { mode: before.mode & 0o777 });
    if (process.getuid?.() === 0) await chown(tmp, before.uid, before.gid);
    await rename(tmp, this.path);
    await utimes(this.path, now, now);
    await this.reload();
    await this.confirm([...fresh.values()]);
  }

  private reload(): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile('traffic_ctl', ['config', 'reload'], { env: { ...process.env, TS_RUNROOT: this.runroot }, timeout: 10_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`traffic_ctl config reload failed: ${String(stderr).trim() || err.message}`));
        else resolve();
      });
    });
  }

  /** The plugin loads on a task thread after traffic_ctl returns: wait until the state file lists the rules. */
  private async confirm(rules: RevalidateRule[]): Promise<void> {
    if (!this.statePath) {
      await sleep(100); // no state file configured: give the plugin a moment (best effort)
      return;
    }
    const want = rules.map((r) => `${r.regex} ${r.expiry} ${r.miss ? 'MISS' : 'STALE'}`);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      // State lines are `<regex> <epoch> <expiry> <type>`: drop the epoch to compare.
      const state = await readFile(this.statePath, 'utf8').catch(() => '');
      const live = new Set(state.split('\n').map((l) => l.replace(/^(\S+) \d+ (\d+ \w+)$/, '$1 $2')));
      if (want.every((w) => live.has(w))) return;
      await sleep(10);
    }
    throw new RuleNotLoaded(`rule not in ${this.statePath} 5 s after reload (invalid PCRE? see diags.log)`);
  }
}
