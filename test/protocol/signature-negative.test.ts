/**
 * Negative controls for the known-answer tests (docs/protocol.md §5.4): a verifier that matches every
 * capture is only worth something if it also refuses them once anything signed is changed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseParams } from '../../src/protocol/request.js';
import { v3Hash } from '../../src/protocol/signature-v3.js';
import { ALL, byLabel, EDGE, kindOf, MAIN, recompute, setParam, setQueryParam, toWire } from './captures.js';

const VERIFIABLE = ALL.filter(({ c }) => kindOf(c) !== 'ACS4');

describe('a wrong secret', () => {
  test('fails for every captured V1 and ACS3 request', () => {
    let refused = 0;
    for (const { c } of VERIFIABLE) {
      // Off by one character, and the V1 form of the key (`secret&`) used as a V3 key, so the
      // test would notice if V3 wrongly appended `&` or V1 forgot it.
      for (const wrong of ['TestSecretKey0123456789abcdeF', 'TestSecretKey0123456789abcdef&']) {
        const r = recompute(toWire(c), wrong);
        assert.notEqual(r.expected, r.captured, `#${c.seq} ${c.label} verified with ${wrong}`);
      }
      refused++;
    }
    assert.equal(refused, 121);
  });
});

describe('changing one signed query parameter', () => {
  // Every capture that carries TaskId in its URL query: V1 (cdn SDK v2, pop-core GET) and V3.
  const withTaskId = VERIFIABLE.filter(({ c }) => /[?&]TaskId=/.test(c.url));

  test('TaskId in the URL breaks V1 and V3 signatures alike', () => {
    const kinds = new Set<string>();
    for (const { file, c } of withTaskId) {
      const tampered = toWire(c, { url: setQueryParam(c.url, 'TaskId', '17772470469') });
      const untouched = recompute(toWire(c), file.accessKeySecret);
      assert.equal(untouched.expected, untouched.captured, `#${c.seq} should verify before tampering`);
      const r = recompute(tampered, file.accessKeySecret);
      assert.notEqual(r.expected, r.captured, `#${c.seq} ${c.label}`);
      kinds.add(r.kind);
    }
    assert.deepEqual([...kinds].sort(), ['ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3', 'V1']);
    assert.ok(withTaskId.length >= 60, `only ${withTaskId.length} captures carry TaskId`);
  });

  test('TaskId in a pop-core POST form body is signed too (V1 signs body params)', () => {
    const c = byLabel('pop/POST DescribeRefreshTaskById');
    const r = recompute(toWire(c, { body: setParam(c.body, 'TaskId', '17772470469') }), MAIN.accessKeySecret);
    assert.notEqual(r.expected, r.captured);
  });

  test('re-encoding a value differently but equivalently keeps the signature (values are signed decoded)', () => {
    // pop-core sends %28%2A%29%21 where the cdn SDK sends (*)! raw; both must verify, so the
    // signature cannot depend on the client's choice of encoding, only on the decoded value.
    const c = byLabel('pop GET DescribeRefreshTasks weird ObjectPath', EDGE);
    const raw = parseParams(toWire(c)).query.get('ObjectPath')!;
    const url = setQueryParam(c.url, 'ObjectPath', encodeURIComponent(raw));
    assert.notEqual(url, c.url);
    const r = recompute(toWire(c, { url }), EDGE.accessKeySecret);
    assert.equal(r.expected, r.captured);
  });

  test('ObjectPath with Chinese, + and %20 in a V3 query: one changed character fails', () => {
    const c = byLabel('cdn5 V3 DescribeRefreshTasks weird ObjectPath in query', EDGE);
    // %2B is a literal '+'; a raw '+' decodes to a space, a different value.
    const url = c.url.replace('a%2Bb.txt', 'a+b.txt');
    assert.notEqual(url, c.url);
    const r = recompute(toWire(c, { url }), EDGE.accessKeySecret);
    assert.notEqual(r.expected, r.captured);
  });
});

describe('changing the form body of a V3 RefreshObjectCaches', () => {
  const v3Forms = VERIFIABLE.filter(({ c }) => kindOf(c) === 'ACS3-HMAC-SHA256' && c.body !== '');

  test('there are V3 form-body captures to tamper with (cdn4, cdn5, edge case)', () => {
    assert.equal(v3Forms.length, 3);
    for (const { c } of v3Forms) assert.equal(c.headers['x-acs-action'], 'RefreshObjectCaches');
  });

  test('the payload hash no longer matches x-acs-content-sha256', () => {
    for (const { file, c } of v3Forms) {
      const body = /Force=true/.test(c.body) ? c.body.replace('Force=true', 'Force=false') : c.body.replace('ObjectType=File', 'ObjectType=Directory');
      assert.notEqual(body, c.body);
      const r = recompute(toWire(c, { body }), file.accessKeySecret);
      assert.equal(r.payloadMatches, false, `#${c.seq} ${c.label}`);
      assert.notEqual(r.expected, r.captured);
    }
  });

  test('the body is signed only through that hash: its params are not in the canonical query', () => {
    // Why the server must hash the body itself rather than trust the header: with the header's
    // hash, a changed body would still produce the captured signature.
    const c = byLabel('cdn5/default RefreshObjectCaches');
    const tampered = toWire(c, { body: c.body.replace('Force=true', 'Force=false') });
    const r = recompute(tampered, MAIN.accessKeySecret);
    assert.doesNotMatch(r.stringToSign, /Force/);
    assert.notEqual(r.payloadHash, v3Hash('ACS3-HMAC-SHA256', Buffer.from(c.body)));
    const trustingHeader = recompute(toWire(c), MAIN.accessKeySecret);
    assert.equal(trustingHeader.payloadHash, c.headers['x-acs-content-sha256']);
    assert.equal(trustingHeader.expected, trustingHeader.captured);
  });
});

describe('changing a signed header', () => {
  test('x-acs-action, host and x-acs-date are each covered by a V3 signature', () => {
    const c = byLabel('cdn5/default DescribeRefreshTaskById');
    for (const patch of [{ 'x-acs-action': 'RefreshObjectCaches' }, { host: '127.0.0.1:80' }, { 'x-acs-date': '2026-11-23T13:29:41Z' }]) {
      const r = recompute(toWire(c, { headers: patch }), MAIN.accessKeySecret);
      assert.notEqual(r.expected, r.captured, JSON.stringify(patch));
    }
  });

  test('an unsigned header (user-agent) does not affect a V3 signature', () => {
    const c = byLabel('cdn5/default DescribeRefreshTaskById');
    const r = recompute(toWire(c, { headers: { 'user-agent': 'curl/8' } }), MAIN.accessKeySecret);
    assert.equal(r.expected, r.captured);
  });
});
