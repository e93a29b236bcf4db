import { ApiError } from '../spec/errors.js';
import { parseObjectPath, splitObjectPaths, type SubmitType } from './object-path.js';
import { MATCH_MS, matchRegex } from './regex-match.js';

/**
 * VerifyUrl (a refreshd extension): sample URLs a Directory, Regex, IgnoreParams or cache-tag
 * purge is verified on. Such a purge names no single object, so on a node whose group verifies by
 * `probe` each sample in scope of the item is looked at after the node acknowledged, and must be
 * gone (or stale, for a soft purge) — edges/verify.ts. A sample must lie in the purge's scope, or
 * it would be "still cached" on a cache that did exactly what it was asked:
 *   Directory     under one of the call's directories of its domain (the directory itself counts);
 *   Regex         on the rule's domain, matched by the expression (from its first `/`, as the caches anchor it);
 *   IgnoreParams  one of the call's URLs of its domain, with any query;
 *   cache tag     on the call's domain; it must carry every tag of the call (each tag's item probes it).
 */
export const MAX_VERIFY_URLS = 10;

/** The object types a sample can verify; a File refresh and a preload probe their own URLs. */
const VERIFIABLE: ReadonlySet<SubmitType> = new Set(['directory', 'regex', 'ignoreparams', 'cachetag']);

/** A path without its query or fragment: what IgnoreParams purges all variants of. */
export const withoutQuery = (path: string) => path.replace(/[?#].*$/, '');

/**
 * Whether a sample (its path as the node sees it) lies in the scope of one item (its path, or
 * regex source). A regex sample was matched against the expression at submit (checkVerifyUrls):
 * the one rule of a Regex call covers every sample the call was given.
 */
export function sampleInScope(type: SubmitType, itemPath: string, samplePath: string): boolean {
  switch (type) {
    case 'directory':
      return samplePath.startsWith(itemPath.endsWith('/') ? itemPath : itemPath + '/');
    case 'ignoreparams':
      return withoutQuery(samplePath) === withoutQuery(itemPath);
    case 'regex':
    case 'cachetag':
      return true;
    default:
      return false;
  }
}

/** One item of a submission, for checking samples against it: its domain and its path (or regex). */
export interface ScopeItem {
  domain: string;
  path: string;
}

/**
 * Check VerifyUrl against the call's items and return the samples per domain (as given,
 * trimmed), or throw InvalidParameter (VerifyUrl) saying what is wrong with which sample.
 */
export async function checkVerifyUrls(text: string, type: SubmitType, items: ScopeItem[]): Promise<Map<string, string[]>> {
  const bad = (why: string) => new ApiError('InvalidParameter', { vars: { Name: 'VerifyUrl' }, detail: why });
  const samples = [...new Set(splitObjectPaths(text))];
  const byDomain = new Map<string, string[]>();
  if (samples.length === 0) return byDomain;
  if (!VERIFIABLE.has(type)) throw bad('Sample URLs verify Directory, Regex, IgnoreParams and cache-tag purges; a File refresh is verified on its own URLs.');
  if (samples.length > MAX_VERIFY_URLS) throw bad(`At most ${MAX_VERIFY_URLS} sample URLs are supported for each request.`);
  const parsed = samples.map((text) => {
    try {
      return parseObjectPath(text, 'file');
    } catch (err) {
      throw bad(err instanceof ApiError ? err.message.replace(/^The specified ObjectPath is invalid\. /, '') : String(err));
    }
  });
  const regexHits = type === 'regex' ? await matchRegexes(parsed, items) : undefined;
  parsed.forEach((sample, i) => {
    const mine = items.filter((item) => item.domain === sample.domain);
    if (mine.length === 0) throw bad(`${clip(sample.text)} is not on a domain of this call.`);
    const fits = regexHits ? regexHits[i] : mine.some((item) => sampleInScope(type, item.path, sample.path));
    if (fits === null) throw bad(`matching ${clip(sample.text)} against the regular expression took longer than ${MATCH_MS} ms.`);
    if (!fits) throw bad(`${clip(sample.text)} is not ${SCOPE[type]}.`);
    const list = byDomain.get(sample.domain);
    if (list) list.push(sample.text);
    else byDomain.set(sample.domain, [sample.text]);
  });
  return byDomain;
}

const SCOPE: Partial<Record<SubmitType, string>> = {
  directory: 'under a directory of this call',
  regex: 'matched by the regular expression of this call',
  ignoreparams: 'a URL of this call (with any query)',
  cachetag: 'on the domain of this call',
};

/** Per sample: matched by the expression of its domain's rule; null when matching ran out of time. */
async function matchRegexes(samples: { domain: string; path: string }[], items: ScopeItem[]): Promise<(boolean | null)[]> {
  const out: (boolean | null)[] = samples.map(() => false);
  // A Regex call holds one rule: match all its samples in one request.
  for (const rule of items) {
    const mine = samples.flatMap((s, i) => (s.domain === rule.domain ? [i] : []));
    if (mine.length === 0) continue;
    const hits = await matchRegex(rule.path, mine.map((i) => samples[i].path));
    mine.forEach((i, k) => (out[i] = hits === null ? null : hits[k]));
  }
  return out;
}

function clip(s: string): string {
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}
