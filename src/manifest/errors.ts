/**
 * Why a manifest could not be expanded. The codecs and the walk throw these; the domain turns
 * them into the API's catalogue errors (domain/manifest-preload.ts), so this directory knows
 * nothing of the API.
 *
 * - `fetch`: the manifest could not be read from its origin (status, timeout, size, no origin);
 * - `malformed`: it was read but is no HLS playlist or DASH MPD refreshd can expand;
 * - `limit`: expanding it would take more fetches than allowed (`limit` names the ceiling).
 */
export class ManifestError extends Error {
  constructor(
    readonly kind: 'fetch' | 'malformed' | 'limit',
    message: string,
    readonly limit?: string,
  ) {
    super(message);
  }
}

export const malformed = (url: string, why: string) => new ManifestError('malformed', `${url}: ${why}`);
