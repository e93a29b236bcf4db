import { parseMpd } from './dash.js';
import { malformed, ManifestError } from './errors.js';
import { parseHls } from './hls.js';

/**
 * The walk of one submitted manifest: every URL a player of it may fetch, in order — the manifest
 * itself, then for an HLS multivariant playlist each playlist it names (fetched, at most
 * `maxDepth` levels counting the first) with its segments, for a DASH MPD every init and media
 * segment. Playlists named twice are fetched once. Playlists of one level are fetched side by
 * side, a few at a time, and expanded in the order they are named.
 */
export type ManifestFormat = 'hls' | 'dash';

export interface WalkLimits {
  /** Levels of playlists, the submitted one being 1 (HLS multivariant → media: 2). */
  maxDepth: number;
  /** Fetches over the whole call (shared by its walks). */
  maxFetches: number;
  /** URLs (with repeats) after which the walk stops counting: a bound on memory, far above any ceiling. */
  countCap: number;
}

/** The format a path names by its extension (path only, any case), if it is a manifest. */
export function manifestFormat(url: string): ManifestFormat | undefined {
  const path = url.replace(/[?#].*$/, '').toLowerCase();
  return path.endsWith('.m3u8') ? 'hls' : path.endsWith('.mpd') ? 'dash' : undefined;
}

/** Fetches shared by every walk of one call (the fetch budget and the playlists already read). */
export class Walker {
  private fetches = 0;
  private readonly fetched = new Set<string>();
  private emitted = 0;

  constructor(
    private readonly fetch: (url: string) => Promise<string>,
    private readonly limits: WalkLimits,
  ) {}

  /** The URLs of the manifest at `url` (its own first), appended to `out`. */
  async walk(url: string, out: string[]): Promise<void> {
    const format = manifestFormat(url);
    if (!format) throw malformed(url, 'not an .m3u8 or .mpd URL');
    this.push(out, url);
    await this.visit(url, format, 1, await this.read(url), out);
  }

  private async visit(url: string, format: ManifestFormat, depth: number, text: string, out: string[]): Promise<void> {
    if (format === 'dash') {
      parseMpd(text, url, (u) => this.push(out, u));
      return;
    }
    const list = parseHls(text, url);
    for (const r of list.resources) this.push(out, r);
    const children = list.playlists.filter((p, i) => list.playlists.indexOf(p) === i && !this.fetched.has(p));
    if (children.length === 0) return;
    if (depth >= this.limits.maxDepth) {
      throw malformed(url, `names playlists nested deeper than ${this.limits.maxDepth} levels (${children[0]})`);
    }
    for (const c of children) this.fetched.add(c);
    const texts = await inBatches(children, 8, (c) => this.read(c));
    for (let i = 0; i < children.length; i++) {
      this.push(out, children[i]);
      await this.visit(children[i], 'hls', depth + 1, texts[i], out);
    }
  }

  private read(url: string): Promise<string> {
    this.fetched.add(url);
    if (++this.fetches > this.limits.maxFetches) {
      return Promise.reject(new ManifestError('limit', `expanding needs more than ${this.limits.maxFetches} manifest fetches (manifests.maxFetches)`, `${this.limits.maxFetches} manifest fetches`));
    }
    return this.fetch(url);
  }

  private push(out: string[], url: string): void {
    if (++this.emitted > this.limits.countCap) throw new CountCapReached(this.limits.countCap);
    out.push(url);
  }
}

/** The walk named more URLs than it counts: the caller reports "more than countCap". */
export class CountCapReached extends Error {
  constructor(readonly cap: number) {
    super(`more than ${cap} URLs`);
  }
}

/** `f` over `items`, at most `n` at a time, results in order. */
async function inBatches<T, R>(items: T[], n: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(f))));
  return out;
}
