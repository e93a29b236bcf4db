import { malformed } from './errors.js';
import { resolveUri } from './uri.js';

/**
 * HLS playlists (RFC 8216), as far as preloading needs them: which other playlists a playlist
 * names (a multivariant "master" playlist's variants, renditions and I-frame playlists) and
 * which resources a player fetches (media segments, EXT-X-MAP init sections, LL-HLS parts).
 * Every URI is made absolute against the playlist's own URL. EXT-X-BYTERANGE only picks a part
 * of the URI that follows, so the same URL with several ranges is one resource. Keys
 * (EXT-X-KEY, EXT-X-SESSION-KEY) are not preloaded: a key server is not a cache's to hold.
 */
export interface HlsPlaylist {
  /** Playlists named by this one, in order: fetched and expanded in turn. */
  playlists: string[];
  /** Segment, init-section and part URLs, in order (repeats kept; the caller counts distinct URLs). */
  resources: string[];
}

/** Tags whose URI attribute names another playlist. */
const PLAYLIST_TAGS = new Set(['EXT-X-MEDIA', 'EXT-X-I-FRAME-STREAM-INF']);
/** Tags whose URI attribute names a resource a player fetches. */
const RESOURCE_TAGS = new Set(['EXT-X-MAP', 'EXT-X-PART']);

export function parseHls(text: string, url: string): HlsPlaylist {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '#EXTM3U') throw malformed(url, 'not an HLS playlist (no #EXTM3U first line)');
  const out: HlsPlaylist = { playlists: [], resources: [] };
  // Set by EXT-X-STREAM-INF: the next URI line is a variant playlist, not a segment.
  let variantNext = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      (variantNext ? out.playlists : out.resources).push(resolveUri(line, url, url));
      variantNext = false;
      continue;
    }
    if (!line.startsWith('#EXT')) continue; // a comment
    const colon = line.indexOf(':');
    const tag = line.slice(1, colon < 0 ? undefined : colon);
    if (tag === 'EXT-X-STREAM-INF') {
      variantNext = true;
      continue;
    }
    if (!PLAYLIST_TAGS.has(tag) && !RESOURCE_TAGS.has(tag)) continue;
    const uri = attributes(line.slice(colon + 1), url).get('URI');
    if (uri === undefined) {
      // EXT-X-MEDIA without URI: a rendition carried in the variant's own stream.
      if (tag === 'EXT-X-MEDIA') continue;
      throw malformed(url, `#${tag} without a URI attribute (line ${i + 1})`);
    }
    (PLAYLIST_TAGS.has(tag) ? out.playlists : out.resources).push(resolveUri(uri, url, url));
  }
  if (variantNext) throw malformed(url, '#EXT-X-STREAM-INF is not followed by a URI line');
  return out;
}

/** An attribute list: `NAME=value,NAME="quoted, value"` (RFC 8216 §4.2). */
function attributes(list: string, url: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Z0-9-]+)=("[^"\r\n]*"|[^,"]*)\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < list.length && (m = re.exec(list)) !== null) {
    const value = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2].trim();
    out.set(m[1], value);
  }
  if (re.lastIndex < list.length && list.slice(re.lastIndex).trim() !== '') {
    throw malformed(url, `unreadable attribute list: ${list.slice(0, 120)}`);
  }
  return out;
}
