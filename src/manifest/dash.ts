import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { malformed } from './errors.js';
import { resolveUri } from './uri.js';

/**
 * DASH MPDs (ISO/IEC 23009-1), as far as preloading needs them: every init and media segment URL
 * of every Representation of every Period, in document order. BaseURL is resolved level by level
 * (MPD, Period, AdaptationSet, Representation; the first of several). Segment information may sit
 * at any level and is inherited downwards, attribute by attribute:
 * - SegmentTemplate with $RepresentationID$, $Bandwidth$, $Number$ and $Time$ (with `%0Nd`
 *   widths), either over a SegmentTimeline (S@t, @d, @r, @r=-1 up to the next S or the period's
 *   end) or with @duration over the period's duration;
 * - SegmentList: Initialization@sourceURL and each SegmentURL@media (@mediaRange picks bytes of
 *   the same URL, so it is one URL);
 * - SegmentBase or nothing: the Representation's BaseURL is the media.
 * A live (`type="dynamic"`) MPD, remote (xlink) elements and $SubNumber$ are refused with the
 * reason rather than expanded partly.
 */
type Node = Record<string, unknown>;

const REPEATED = new Set(['Period', 'AdaptationSet', 'Representation', 'BaseURL', 'S', 'SegmentURL']);
const PARSER = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => REPEATED.has(name),
});
const SEGMENT_INFO = ['SegmentTemplate', 'SegmentList', 'SegmentBase'] as const;

export function parseMpd(text: string, url: string, emit: (resource: string) => void): void {
  // An MPD never needs one; entity definitions are how XML bombs start.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformed(url, 'an MPD with a DOCTYPE is not expanded');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw malformed(url, `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const mpd = (PARSER.parse(text) as Node).MPD;
  if (!isNode(mpd)) throw malformed(url, 'not a DASH MPD (no MPD root element)');
  if (mpd['@type'] === 'dynamic') throw malformed(url, 'a live (type="dynamic") MPD cannot be expanded: its segments depend on the time it is played');
  const total = seconds(mpd['@mediaPresentationDuration'], url);
  const mpdBase = baseOf(mpd, { href: url, given: false }, url);
  const periods = nodes(mpd.Period);
  if (periods.length === 0) throw malformed(url, 'no Period');
  let start = 0;
  periods.forEach((period, i) => {
    refuseRemote(period, 'Period', url);
    const from = seconds(period['@start'], url) ?? start;
    const next = i + 1 < periods.length ? seconds(periods[i + 1]['@start'], url) : undefined;
    const length = seconds(period['@duration'], url) ?? (next !== undefined ? next - from : total !== undefined ? total - from : undefined);
    start = from + (length ?? 0);
    const periodBase = baseOf(period, mpdBase, url);
    for (const set of nodes(period.AdaptationSet)) {
      refuseRemote(set, 'AdaptationSet', url);
      const setBase = baseOf(set, periodBase, url);
      for (const rep of nodes(set.Representation)) {
        representation(rep, [period, set, rep], baseOf(rep, setBase, url), length, url, emit);
      }
    }
  });
}

interface Base {
  href: string;
  /** Whether a BaseURL was given at some level (else it is the MPD's own URL). */
  given: boolean;
}

function representation(rep: Node, levels: Node[], base: Base, periodSeconds: number | undefined, url: string, emit: (u: string) => void): void {
  const vars = { RepresentationID: rep['@id'], Bandwidth: rep['@bandwidth'] } as Record<string, unknown>;
  const what = `Representation ${JSON.stringify(rep['@id'] ?? '?')}`;
  // The nearest level with segment information decides its kind; the levels above fill in attributes.
  const kind = [...levels].reverse().flatMap((l) => SEGMENT_INFO.filter((k) => isNode(first(l[k]))))[0];
  const merged = kind ? merge(levels.map((l) => first(l[kind])).filter(isNode)) : {};
  const at = (u: string) => resolveUri(u, base.href, url);
  const initUrl = (init: unknown) => {
    const n = first(init);
    if (!isNode(n)) return;
    const source = n['@sourceURL'];
    emit(typeof source === 'string' ? at(fill(source, vars, url)) : base.href);
  };
  if (kind === 'SegmentTemplate') {
    const init = merged['@initialization'];
    if (typeof init === 'string') emit(at(fill(init, vars, url)));
    const media = merged['@media'];
    if (typeof media !== 'string') {
      if (typeof init !== 'string') throw malformed(url, `${what}: SegmentTemplate without @media or @initialization`);
      return;
    }
    for (const s of segments(merged, periodSeconds, `${what}`, url)) emit(at(fill(media, { ...vars, ...s }, url)));
    return;
  }
  if (kind === 'SegmentList') {
    initUrl(merged.Initialization);
    const list = nodes(merged.SegmentURL);
    if (list.length === 0) throw malformed(url, `${what}: SegmentList without SegmentURL`);
    for (const s of list) emit(typeof s['@media'] === 'string' ? at(s['@media']) : base.href);
    return;
  }
  if (kind === 'SegmentBase') initUrl(merged.Initialization);
  if (!base.given) throw malformed(url, `${what} names no media: no BaseURL and no SegmentTemplate or SegmentList`);
  emit(base.href);
}

/** $Number$ and $Time$ of every segment a SegmentTemplate names. */
function* segments(t: Node, periodSeconds: number | undefined, what: string, url: string): Generator<{ Number: number; Time: number }> {
  const timescale = integer(t['@timescale'], 1, what, url);
  let number = integer(t['@startNumber'], 1, what, url);
  const offset = integer(t['@presentationTimeOffset'], 0, what, url);
  const timeline = first(t.SegmentTimeline);
  const end = periodSeconds === undefined ? undefined : offset + periodSeconds * timescale;
  if (isNode(timeline)) {
    const list = nodes(timeline.S);
    let time = 0;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s['@t'] !== undefined) time = integer(s['@t'], 0, what, url);
      const d = integer(s['@d'], NaN, what, url);
      if (!(d > 0)) throw malformed(url, `${what}: SegmentTimeline S without a positive @d`);
      let repeat = integer(s['@r'], 0, what, url, true);
      if (repeat < 0) {
        // Up to the next S's start, or the end of the period.
        const until = i + 1 < list.length && list[i + 1]['@t'] !== undefined ? integer(list[i + 1]['@t'], 0, what, url) : end;
        if (until === undefined) throw malformed(url, `${what}: S@r=-1 but the period's duration is unknown`);
        repeat = Math.ceil((until - time) / d - 1e-9) - 1;
      }
      for (let k = 0; k <= repeat; k++, number++, time += d) yield { Number: number, Time: time };
    }
    return;
  }
  const duration = integer(t['@duration'], NaN, what, url);
  if (!(duration > 0)) throw malformed(url, `${what}: SegmentTemplate without SegmentTimeline or a positive @duration`);
  if (periodSeconds === undefined) throw malformed(url, `${what}: the period's duration is unknown, so its segments cannot be counted`);
  // A whole number of segments covers the period; the last may be short.
  const count = Math.ceil((periodSeconds * timescale) / duration - 1e-9);
  for (let i = 0; i < count; i++) yield { Number: number + i, Time: offset + i * duration };
}

/** A template with its identifiers filled in (§5.3.9.4.4): `$$`, and `$Name$` or `$Name%0Nd$`. */
function fill(template: string, vars: Record<string, unknown>, url: string): string {
  return template.replace(/\$(\w*)(?:%0(\d{1,2})d)?\$/g, (whole, name: string, width?: string) => {
    if (name === '') return '$';
    const value = vars[name];
    if (value === undefined || value === null || value === '') {
      throw malformed(url, `template ${JSON.stringify(template)}: ${whole} is not supported here (no value for ${name})`);
    }
    if (name === 'RepresentationID' && width) throw malformed(url, `template ${JSON.stringify(template)}: $RepresentationID$ takes no width`);
    return width ? String(value).padStart(Number(width), '0') : String(value);
  });
}

/** The first BaseURL of a node, resolved against its parent's. */
function baseOf(node: Node, parent: Base, url: string): Base {
  const b = first(node.BaseURL);
  const text = typeof b === 'string' ? b : isNode(b) ? b['#text'] : undefined;
  if (typeof text !== 'string' || text.trim() === '') return parent;
  return { href: resolveUri(text, parent.href, url), given: true };
}

/** Attributes and children of the same element at several levels, the lower ones winning. */
function merge(levels: Node[]): Node {
  return Object.assign({}, ...levels);
}

function refuseRemote(node: Node, name: string, url: string): void {
  if (node['@href'] !== undefined) throw malformed(url, `remote ${name} (xlink:href) is not followed`);
}

/** An ISO 8601 duration in seconds (PnDTnHnMnS; years and months have no fixed length). */
function seconds(value: unknown, url: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(String(value).trim());
  if (!m || String(value).trim() === 'P' || String(value).trim().endsWith('T')) throw malformed(url, `unreadable duration ${JSON.stringify(value)}`);
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0));
  return d * 86_400 + h * 3_600 + min * 60 + s;
}

function integer(value: unknown, fallback: number, what: string, url: string, signed = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(String(value).trim()) || !Number.isSafeInteger(n)) {
    throw malformed(url, `${what}: ${JSON.stringify(value)} is not a whole number`);
  }
  return n;
}

const isNode = (x: unknown): x is Node => typeof x === 'object' && x !== null && !Array.isArray(x);
const first = (x: unknown): unknown => (Array.isArray(x) ? x[0] : x);
const nodes = (x: unknown): Node[] => (Array.isArray(x) ? x : x === undefined ? [] : [x]).filter(isNode);
