import type { ManifestLimits } from '../config/config.js';
import { ManifestError } from '../manifest/errors.js';
import { CountCapReached, manifestFormat, Walker } from '../manifest/expand.js';
import { ApiError } from '../spec/errors.js';
import { parseObjectPath } from './object-path.js';
import type { Domain } from './records.js';

/**
 * ExpandManifest (PushObjectCache / PreloadVodObjectCaches): each `.m3u8` or `.mpd` path becomes
 * the manifest and every URL a player of it fetches, each its own item, before the call is
 * answered — so the quota check sees the real count, and a call that does not fit is refused
 * whole with that count, never cut. The expansion runs after the submitted domains are checked
 * and before anything is charged; a manifest of a domain the caller does not own is never
 * fetched (every fetch asks `domainOf` first), and every URL it yields must be of the caller's
 * own domains too.
 */
export type PathExpansion = (byDomain: Map<string, string[]>, domainOf: (name: string) => Promise<Domain>) => Promise<Map<string, string[]>>;

/** Reads one manifest from a domain's origin (manifest/fetch.ts OriginFetcher). */
export interface ManifestSource {
  text(origin: string, url: string): Promise<string>;
  close(): Promise<void>;
}

/** HLS variants name their media playlists: the submitted one and two levels below it. */
export const MAX_DEPTH = 3;

export function manifestExpansion(limits: ManifestLimits, openSource: (signal: AbortSignal) => ManifestSource): PathExpansion {
  return async (byDomain, domainOf) => {
    const source = openSource(AbortSignal.timeout(limits.timeoutMs));
    try {
      return await expand(byDomain, domainOf, limits, source);
    } catch (err) {
      throw toApiError(err, limits);
    } finally {
      await source.close();
    }
  };
}

async function expand(byDomain: Map<string, string[]>, domainOf: (name: string) => Promise<Domain>, limits: ManifestLimits, source: ManifestSource): Promise<Map<string, string[]>> {
  const walker = new Walker(async (url) => {
    // Ownership before any byte leaves: the caller's own, online domain, with an origin.
    const domain = await domainOf(new URL(url).hostname);
    if (!domain.origin) throw new ManifestError('fetch', `${url}: the domain ${domain.name} has no origin to read it from`);
    return source.text(domain.origin, url);
  }, { maxDepth: MAX_DEPTH, maxFetches: limits.maxFetches, countCap: Math.max(limits.maxUrls + 1, 100_000) });

  const out = new Map<string, Set<string>>();
  let total = 0;
  const add = (domain: string, path: string) => {
    let set = out.get(domain);
    if (!set) out.set(domain, (set = new Set()));
    if (!set.has(path)) (set.add(path), total++);
  };
  for (const [domain, paths] of byDomain) {
    for (const path of paths) {
      if (!manifestFormat(path)) {
        add(domain, path);
        continue;
      }
      const urls: string[] = [];
      await walker.walk(/^https?:\/\//i.test(path) ? path : `http://${path}`, urls);
      // The manifest's row shows the path as submitted.
      add(domain, path);
      for (const url of urls.slice(1)) add(parseObjectPath(url, 'preload').domain, url);
    }
  }
  if (total > limits.maxUrls) {
    throw new ApiError('SingleRequest.OverLimit', {
      vars: { Limit: `${limits.maxUrls} URLs from manifest expansion (manifests.maxUrls)` },
      detail: `The manifests expand to ${total} URLs.`,
    });
  }
  // Segments may live on other domains of the caller's (an absolute BaseURL or URI), never on someone else's.
  for (const domain of out.keys()) {
    if (byDomain.has(domain)) continue;
    try {
      await domainOf(domain);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'InvalidDomain.NotFound') {
        throw new ApiError('InvalidDomain.NotFound', { vars: { Domain: domain }, detail: 'A manifest names URLs of that domain.' });
      }
      throw err;
    }
  }
  return new Map([...out].map(([d, set]) => [d, [...set]]));
}

function toApiError(err: unknown, limits: ManifestLimits): unknown {
  if (err instanceof CountCapReached) {
    return new ApiError('SingleRequest.OverLimit', {
      vars: { Limit: `${limits.maxUrls} URLs from manifest expansion (manifests.maxUrls)` },
      detail: `The manifests expand to more than ${err.cap} URLs.`,
    });
  }
  if (!(err instanceof ManifestError)) return err;
  switch (err.kind) {
    case 'fetch':
      return new ApiError('InvalidManifest.FetchFailed', { detail: err.message });
    case 'malformed':
      return new ApiError('InvalidManifest.Malformed', { detail: err.message });
    case 'limit':
      return new ApiError('SingleRequest.OverLimit', { vars: { Limit: err.limit ?? 'manifest fetches' }, detail: err.message });
  }
}
