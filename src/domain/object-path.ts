import { ApiError } from '../spec/errors.js';
import { regexRefusal } from './regex-dialect.js';

/**
 * Object paths as RefreshObjectCaches / PushObjectCache accept them: `http(s)://host/path` or
 * `host/path`, one per line (`\n` or `\r\n`), each at most 1,024 characters.
 */
export type SubmitType = 'file' | 'directory' | 'regex' | 'ignoreparams' | 'preload' | 'cachetag';

export interface ObjectPath {
  /** The path as the caller wrote it (trimmed): what Describe* echoes back. */
  text: string;
  /** Lower-case host without port: the domain the path belongs to. */
  domain: string;
  /**
   * What follows the host, from its first `/`, `?` or `#`, as the cache node sees it (`/` when
   * empty, a leading `/` added): the path and query, or a regex's source. edges/driver.ts
   * toEdgeTarget splits paths the same way for the drivers.
   */
  path: string;
}

export const MAX_PATH_LENGTH = 1024;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const HOST = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Control characters never belong in a cache key and are how header/log injection starts;
// Unicode line breaks (NEL, LS, PS) split log lines and paths just the same, and bidi controls
// make a path read differently from what it is (a "trojan source" path in the console or a log).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export function splitObjectPaths(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseObjectPath(text: string, type: SubmitType): ObjectPath {
  const bad = (why: string) => new ApiError('InvalidObjectPath.Malformed', { detail: `${why}: ${truncate(text)}` });
  if (text.length > MAX_PATH_LENGTH) throw bad(`longer than ${MAX_PATH_LENGTH} characters`);
  if (CONTROL.test(text)) throw bad('control characters, Unicode line breaks and bidi controls are not allowed');
  let rest = text;
  const scheme = SCHEME.exec(text);
  if (scheme) {
    const s = scheme[1].toLowerCase();
    if (s !== 'http' && s !== 'https') throw bad('only http and https URLs can be refreshed');
    rest = text.slice(scheme[0].length);
  }
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const pathPart = end < 0 ? '' : rest.slice(end);
  const hostPort = /^([^:@]+)(?::(\d{1,5}))?$/.exec(authority);
  const host = hostPort?.[1].toLowerCase();
  if (!host || !HOST.test(host)) throw bad('the host is not a valid domain name');
  const port = hostPort?.[2] === undefined ? undefined : Number(hostPort[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw bad('the port must be 1–65535');
  if (type === 'directory' && !pathPart.endsWith('/')) throw bad('a directory must end with /');
  if (type === 'regex') {
    const refusal = regexRefusal(pathPart);
    if (refusal) throw bad(refusal);
  }
  const path = pathPart === '' ? '/' : pathPart.startsWith('/') ? pathPart : '/' + pathPart;
  return { text, domain: host, path };
}

function truncate(s: string): string {
  const clean = s.replace(new RegExp(CONTROL.source, 'g'), '?');
  return clean.length > 80 ? clean.slice(0, 80) + '…' : clean;
}
