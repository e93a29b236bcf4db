/**
 * The wire encoding both signature schemes rest on (docs/protocol.md §3, §5.1). A signature is
 * computed over decoded values re-encoded one canonical way, so decoding must accept every
 * client's spelling and percentEncode must produce exactly Alibaba's.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalQuery, formatUtc, MalformedEncoding, parseFormEncoded, parseUtcTimestamp, percentEncode } from '../../src/protocol/encoding.js';

const parse = (text: string) => Object.fromEntries(parseFormEncoded(text));

describe('parseFormEncoded', () => {
  test('plus is a space, %2B a literal plus', () => {
    // No Node client sends a raw +, but other SDKs encode spaces that way (§4.6).
    assert.deepEqual(parse('a=x+y&b=x%2By&c=x%20y'), { a: 'x y', b: 'x+y', c: 'x y' });
  });

  test('percent-decoding, including reserved characters and an encoded %', () => {
    assert.deepEqual(parse('ObjectPath=http%3A%2F%2Fexample.com%2Fa%3Fx%3D1%26y%3D2&q=%2520'), {
      ObjectPath: 'http://example.com/a?x=1&y=2',
      q: '%20', // decoded once only: the client meant a literal "%20"
    });
  });

  test('both clients’ spellings of (*)!~\' decode to the same value', () => {
    const raw = parse("v=(*)!~'").v;
    assert.equal(raw, "(*)!~'");
    assert.equal(parse('v=%28%2A%29%21~%27').v, raw);
  });

  test('UTF-8 Chinese, percent-encoded or sent raw', () => {
    assert.equal(parse('p=%E4%B8%AD%E6%96%87%20dir').p, '中文 dir');
    assert.equal(parse('p=中文').p, '中文');
  });

  test('CRLF and LF separators in ObjectPath lists survive decoding', () => {
    assert.equal(parse('ObjectPath=a%0D%0Ab%0Ac').ObjectPath, 'a\r\nb\nc');
  });

  test('empty values, a key without =, empty segments and = inside a value', () => {
    assert.deepEqual(parse('DomainName=&Flag&&x=a=b&'), { DomainName: '', Flag: '', x: 'a=b' });
    assert.equal(parseFormEncoded('').size, 0);
  });

  test('keys are decoded too', () => {
    assert.deepEqual(parse('a%20b=1&c+d=2'), { 'a b': '1', 'c d': '2' });
  });

  test('a repeated key is refused, also across query and body; `into` merges new keys', () => {
    assert.throws(() => parse('a=1&a=2'), (err: MalformedEncoding) => err.parameter === 'a');
    assert.throws(() => parse('a%20b=1&a+b=2'), (err: MalformedEncoding) => err.parameter === 'a b', 'compared after decoding');
    const into = new Map([['Action', 'FromQuery'], ['Keep', 'q']]);
    assert.throws(() => parseFormEncoded('Action=FromBody', into), MalformedEncoding);
    parseFormEncoded('Other=FromBody', into);
    assert.deepEqual(Object.fromEntries(into), { Action: 'FromQuery', Keep: 'q', Other: 'FromBody' });
  });

  test('at most maxParams names, counted over query and body, empty segments not counted', () => {
    assert.equal(parseFormEncoded('a=1&&b=2&&&c=3', new Map(), 3).size, 3);
    assert.throws(() => parseFormEncoded('a=1&b=2&c=3&d=4', new Map(), 3), /more than 3 parameters/);
    assert.throws(() => parseFormEncoded('c=3&d=4', new Map([['a', '1'], ['b', '2']]), 3), /more than 3 parameters/);
    // A million separators cost one pass over the text, not a million strings.
    assert.equal(parseFormEncoded('&'.repeat(1_000_000) + 'x=1', new Map(), 3).get('x'), '1');
  });

  for (const bad of ['a=%', 'a=%zz', 'a=%E4%B8', 'a=%C0%AF', '%G1=x']) {
    test(`malformed percent-encoding ${JSON.stringify(bad)} throws MalformedEncoding`, () => {
      assert.throws(() => parseFormEncoded(bad), MalformedEncoding);
    });
  }
});

describe('percentEncode', () => {
  test("encodes !'()* and space, keeps ~ literal", () => {
    assert.equal(percentEncode("!'()*~ "), '%21%27%28%29%2A~%20');
  });

  test('unreserved characters pass through; reserved ones are encoded upper-case', () => {
    assert.equal(percentEncode('AZaz09-_.~'), 'AZaz09-_.~');
    assert.equal(percentEncode('/:?&=+,;@#$%'), '%2F%3A%3F%26%3D%2B%2C%3B%40%23%24%25');
  });

  test('non-ASCII is UTF-8 percent-encoded', () => {
    assert.equal(percentEncode('中文'), '%E4%B8%AD%E6%96%87');
    assert.equal(percentEncode('é'), '%C3%A9');
    assert.equal(percentEncode('😀'), '%F0%9F%98%80');
  });

  test('newline and CRLF', () => {
    assert.equal(percentEncode('a\r\nb'), 'a%0D%0Ab');
  });

  test('round trip: decode(percentEncode(s)) === s for awkward strings', () => {
    for (const s of ["http://example.com/中文 dir/a+b.txt?q=(*)!~'&x=%20", '', '\u0000\t', 'a=b&c']) {
      assert.equal(parse(`k=${percentEncode(s)}`).k, s);
    }
  });
});

describe('canonicalQuery', () => {
  test('sorts keys by code unit (uppercase before lowercase) and encodes both sides', () => {
    const q = canonicalQuery([['b', '1'], ['a', 'x y'], ['B', '*'], ['A b', '']]);
    assert.equal(q, 'A%20b=&B=%2A&a=x%20y&b=1');
  });

  test('is the same for the cdn SDK’s and pop-core’s spelling of one value', () => {
    const sdk = canonicalQuery(parseFormEncoded("ObjectPath=a%20b(*)!~'"));
    const pop = canonicalQuery(parseFormEncoded('ObjectPath=a%20b%28%2A%29%21~%27'));
    assert.equal(sdk, pop);
    assert.equal(sdk, 'ObjectPath=a%20b%28%2A%29%21~%27');
  });
});

describe('parseUtcTimestamp', () => {
  test('valid yyyy-MM-ddTHH:mm:ssZ parses to epoch ms', () => {
    assert.equal(parseUtcTimestamp('2026-11-23T13:29:40Z'), Date.UTC(2026, 10, 23, 13, 29, 40));
    assert.equal(parseUtcTimestamp('2024-02-29T23:59:59Z'), Date.UTC(2024, 1, 29, 23, 59, 59)); // leap day
    assert.equal(parseUtcTimestamp('1970-01-01T00:00:00Z'), 0);
  });

  test('rolled-over dates and times are rejected, not normalised', () => {
    for (const s of ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T23:60:00Z', '2026-11-23T23:59:60Z']) {
      assert.equal(parseUtcTimestamp(s), undefined, s);
    }
  });

  test('other shapes are rejected', () => {
    for (const s of ['2026-11-23T13:29:40.000Z', '2026-11-23T13:29:40+08:00', '2026-11-23T13:29:40', '2026-11-23 13:29:40Z', '2026-11-23t13:29:40z', ' 2026-11-23T13:29:40Z', '26-11-23T13:29:40Z', '']) {
      assert.equal(parseUtcTimestamp(s), undefined, s);
    }
  });

  test('the minutes-only form (yyyy-MM-ddTHH:mmZ, used by Describe* StartTime) only when allowed', () => {
    assert.equal(parseUtcTimestamp('2026-11-23T13:29Z'), undefined);
    assert.equal(parseUtcTimestamp('2026-11-23T13:29Z', true), Date.UTC(2026, 10, 23, 13, 29, 0));
    assert.equal(parseUtcTimestamp('2026-02-30T13:29Z', true), undefined);
    // Allowing minutes does not stop the seconds form from working.
    assert.equal(parseUtcTimestamp('2026-11-23T13:29:40Z', true), Date.UTC(2026, 10, 23, 13, 29, 40));
  });

  test('formatUtc is its inverse, dropping milliseconds', () => {
    assert.equal(formatUtc(Date.UTC(2026, 10, 23, 13, 29, 40, 999)), '2026-11-23T13:29:40Z');
    assert.equal(parseUtcTimestamp(formatUtc(Date.UTC(2026, 10, 23, 13, 29, 40))), Date.UTC(2026, 10, 23, 13, 29, 40));
  });
});
