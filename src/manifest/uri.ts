import { malformed } from './errors.js';

/**
 * A URI of a manifest made absolute against the URL it appears under (RFC 3986 resolution, as
 * players do), without its fragment, which never reaches a server. Only http(s) URLs can be
 * preloaded: any other scheme (a `data:` segment, an `skd:` key) refuses the manifest, so
 * nothing it names is silently left out.
 */
export function resolveUri(uri: string, base: string, manifestUrl: string): string {
  let url: URL;
  try {
    url = new URL(uri.trim(), base);
  } catch {
    throw malformed(manifestUrl, `cannot resolve URI ${JSON.stringify(cut(uri))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw malformed(manifestUrl, `URI ${JSON.stringify(cut(uri))} is not http(s): it cannot be preloaded`);
  }
  url.hash = '';
  return url.href;
}

function cut(s: string): string {
  return s.length > 120 ? s.slice(0, 120) + '…' : s;
}
