import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMpd } from '../../src/manifest/dash.js';
import { ManifestError } from '../../src/manifest/errors.js';
import { manifestFormat, Walker } from '../../src/manifest/expand.js';
import { parseHls } from '../../src/manifest/hls.js';

/**
 * The HLS and DASH codecs on the cases the packagers' fixtures (test/edges/manifest-preload)
 * do not show: attribute lists, LL-HLS, refusals with their reasons, periods, template escapes.
 * Every refusal is a ManifestError the API answers as InvalidManifest.Malformed.
 */
const U = 'http://a.example.com/v/x.m3u8';
const D = 'http://a.example.com/v/x.mpd';
const refused = (f: () => unknown, reason: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof ManifestError && e.kind === 'malformed' && reason.test(e.message));
const mpd = (body: string, attrs = 'type="static" mediaPresentationDuration="PT10S"') => {
  const out: string[] = [];
  parseMpd(`<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" ${attrs}>${body}</MPD>`, D, (u) => out.push(u));
  return out.map((u) => u.replace('http://a.example.com/v/', ''));
};

describe('HLS playlists', () => {
  it('read quoted attribute values with commas, a BOM and CRLF line ends', () => {
    const p = parseHls('\uFEFF#EXTM3U\r\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="avc1.4d401e,mp4a.40.2"\r\nlo/p.m3u8\r\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x, y",URI="au/p.m3u8"\r\n', U);
    assert.deepEqual(p, { playlists: ['http://a.example.com/v/lo/p.m3u8', 'http://a.example.com/v/au/p.m3u8'], resources: [] });
  });

  it('LL-HLS parts are preloaded, preload hints (not yet there) are not; keys never are', () => {
    const p = parseHls('#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key"\n#EXT-X-PART:DURATION=1,URI="p0.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p1.m4s"\n#EXTINF:4,\ns0.m4s\n', U);
    assert.deepEqual(p.resources, ['http://a.example.com/v/p0.m4s', 'http://a.example.com/v/s0.m4s']);
  });

  it('refuses what it cannot expand whole, with the reason', () => {
    refused(() => parseHls('<html></html>', U), /no #EXTM3U first line/);
    refused(() => parseHls('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n', U), /not followed by a URI line/);
    refused(() => parseHls('#EXTM3U\n#EXT-X-MAP:BYTERANGE="1@0"\n', U), /#EXT-X-MAP without a URI attribute/);
    refused(() => parseHls('#EXTM3U\n#EXTINF:4,\ndata:video/mp2t;base64,AAAA\n', U), /is not http\(s\): it cannot be preloaded/);
    refused(() => parseHls('#EXTM3U\n#EXT-X-MAP:URI="i.mp4,BYTERANGE=1@0\n', U), /unreadable attribute list/);
  });
});

describe('DASH MPDs', () => {
  it('count @duration segments per Period, from Period@start and @duration', () => {
    const tpl = '<SegmentTemplate timescale="1" duration="4" initialization="$RepresentationID$/i.mp4" media="$RepresentationID$/$Number$.m4s"/>';
    const out = mpd(`<Period id="a" start="PT0S"><AdaptationSet>${tpl}<Representation id="a"/></AdaptationSet></Period>`
      + `<Period id="b" start="PT6S"><AdaptationSet>${tpl}<Representation id="b"/></AdaptationSet></Period>`);
    // a: 6 s of 4 s segments = 2; b: the remaining 4 s = 1.
    assert.deepEqual(out, ['a/i.mp4', 'a/1.m4s', 'a/2.m4s', 'b/i.mp4', 'b/1.m4s']);
  });

  it('$$ is a dollar; widths pad; SegmentTimeline r=-1 stops at the next S', () => {
    const out = mpd('<Period><AdaptationSet><Representation id="r" bandwidth="9"><SegmentTemplate media="$$$Bandwidth%03d$-$Time%06d$.m4s">'
      + '<SegmentTimeline><S t="10" d="5" r="-1"/><S t="25" d="5"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period>');
    assert.deepEqual(out, ['$009-000010.m4s', '$009-000015.m4s', '$009-000020.m4s', '$009-000025.m4s']);
  });

  it('refuses what it cannot expand whole, with the reason', () => {
    refused(() => mpd('<Period/>', 'type="dynamic"'), /live \(type="dynamic"\)/);
    refused(() => mpd('<Period xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="http://x/p.xml"/>'), /remote Period \(xlink:href\)/);
    refused(() => mpd('<Period><AdaptationSet><Representation id="r"><SegmentTemplate duration="2" media="$Number$-$SubNumber$.m4s"/></Representation></AdaptationSet></Period>'), /\$SubNumber\$ is not supported/);
    refused(() => mpd('<Period><AdaptationSet><Representation id="r"><SegmentTemplate media="$Time$.m4s"><SegmentTimeline><S d="2" r="-1"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period>', 'type="static"'), /r=-1 but the period's duration is unknown/);
    refused(() => mpd('<Period><AdaptationSet><Representation id="r"/></AdaptationSet></Period>'), /names no media/);
    refused(() => parseMpd('<!DOCTYPE MPD [<!ENTITY a "b">]><MPD/>', D, () => {}), /DOCTYPE/);
    refused(() => parseMpd('<MPD><Period></MPD>', D, () => {}), /not well-formed XML/);
  });
});

describe('the walk', () => {
  it('names a manifest by its path’s extension, whatever the query or case', () => {
    assert.deepEqual(['a/b.M3U8?x=.mpd', 'a/b.mpd#t', 'a/b.mp4?f=.m3u8', 'a/m3u8'].map(manifestFormat), ['hls', 'dash', undefined, undefined]);
  });

  it('fetches a playlist named by two submitted masters once, and counts fetches over the whole call', async () => {
    const files: Record<string, string> = {
      'http://a.example.com/1.m3u8': '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n',
      'http://a.example.com/2.m3u8': '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nw.m3u8\n',
      'http://a.example.com/v.m3u8': '#EXTM3U\n#EXTINF:1,\nv0.ts\n',
      'http://a.example.com/w.m3u8': '#EXTM3U\n#EXTINF:1,\nw0.ts\n',
    };
    const read: string[] = [];
    const walker = new Walker(async (u) => (read.push(u), files[u]), { maxDepth: 3, maxFetches: 10, countCap: 1000 });
    const one: string[] = [];
    const two: string[] = [];
    await walker.walk('http://a.example.com/1.m3u8', one);
    await walker.walk('http://a.example.com/2.m3u8', two);
    assert.deepEqual(read, ['http://a.example.com/1.m3u8', 'http://a.example.com/v.m3u8', 'http://a.example.com/2.m3u8', 'http://a.example.com/w.m3u8']);
    assert.deepEqual(two, ['http://a.example.com/2.m3u8', 'http://a.example.com/w.m3u8', 'http://a.example.com/w0.ts']);
    const tight = new Walker(async (u) => files[u], { maxDepth: 3, maxFetches: 2, countCap: 1000 });
    await assert.rejects(tight.walk('http://a.example.com/2.m3u8', []), (e: unknown) => e instanceof ManifestError && e.kind === 'limit' && e.limit === '2 manifest fetches');
  });
});
