/**
 * authenticate() driven directly with real captured requests (test/fixtures, from
 * test/fixtures), with the clock set to when each was signed. Every rejection case starts from
 * a request a real client sent and changes exactly one thing, so each error is attributable.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authenticate, type AuthDeps, type KeyRecord } from '../../src/protocol/authenticate.js';
import { parseParams, type WireRequest } from '../../src/protocol/request.js';
import { v1StringToSign } from '../../src/protocol/signature-v1.js';
import { ApiError, type ErrorCode } from '../../src/spec/errors.js';
import { ALL, byLabel, kindOf, MAIN, setQueryParam, signedAt, toWire, type Capture } from './captures.js';

const SKEW = 15 * 60_000;
const MINUTE = 60_000;

const V1_GET = byLabel('pop/GET DescribeRefreshTaskById');
const V1_SDK_FORM = byLabel('cdn5/v2 RefreshObjectCaches');
const V3 = byLabel('cdn5/default DescribeRefreshTaskById');
const V3_FORM = byLabel('cdn5/default RefreshObjectCaches');

interface Options {
  now?: number;
  key?: Partial<KeyRecord> | null;
  nonces?: Set<string>;
}

/** In-memory deps: one key (the captures'), a nonce set, a fixed clock. Records useNonce calls. */
function depsFor(c: Capture, o: Options = {}): AuthDeps & { nonceCalls: [string, string, number][] } {
  const nonces = o.nonces ?? new Set<string>();
  const nonceCalls: [string, string, number][] = [];
  const key: KeyRecord | undefined =
    o.key === null ? undefined : { accessKeyId: MAIN.accessKeyId, secret: MAIN.accessKeySecret, active: true, accountId: 1, ...o.key };
  return {
    nonceCalls,
    findKey: async (id) => (key && id === key.accessKeyId ? key : undefined),
    useNonce: async (id, nonce, expiresAt) => {
      nonceCalls.push([id, nonce, expiresAt]);
      if (nonces.has(`${id}/${nonce}`)) return false;
      nonces.add(`${id}/${nonce}`);
      return true;
    },
    now: () => o.now ?? signedAt(c),
    skewMs: SKEW,
  };
}

function run(wire: WireRequest, deps: AuthDeps) {
  return authenticate(wire, parseParams(wire), deps);
}

/** Expect an ApiError with this code (and, optionally, text in its message). */
async function rejects(p: Promise<unknown>, code: ErrorCode, message?: string | RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ApiError, `not an ApiError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.ok(err.message.includes(message), err.message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

function withoutHeader(wire: WireRequest, name: string): WireRequest {
  const headers = { ...wire.headers };
  delete headers[name];
  return { ...wire, headers };
}

describe('captured requests authenticate', () => {
  test('every V1 and ACS3 capture passes, with the scheme its wire form says', async () => {
    let passed = 0;
    for (const { c } of ALL.filter(({ c }) => kindOf(c) !== 'ACS4')) {
      const r = await run(toWire(c), depsFor(c));
      assert.equal(r.scheme, kindOf(c) === 'V1' ? 'v1' : 'v3', `#${c.seq} ${c.label}`);
      assert.equal(r.key.accessKeyId, MAIN.accessKeyId);
      passed++;
    }
    assert.equal(passed, 121);
  });

  const cases: [string, Capture, object][] = [
    ['pop-core GET', V1_GET, { scheme: 'v1', action: 'DescribeRefreshTaskById', version: '2018-05-10', format: 'JSON' }],
    ['cdn SDK v2, params in query and form body', V1_SDK_FORM, { scheme: 'v1', action: 'RefreshObjectCaches', version: '2018-05-10', format: 'json' }],
    ['pop-core POST VOD', byLabel('pop/POST VOD DescribeVodRefreshTasks'), { scheme: 'v1', action: 'DescribeVodRefreshTasks', version: '2017-03-21', format: 'JSON' }],
    ['cdn SDK V3', V3, { scheme: 'v3', action: 'DescribeRefreshTaskById', version: '2018-05-10', format: undefined }],
    ['cdn SDK V3 form body', V3_FORM, { scheme: 'v3', action: 'RefreshObjectCaches', version: '2018-05-10', format: undefined }],
    ['cdn SDK ACS3-HMAC-SM3', byLabel('cdn5/ACS3-HMAC-SM3 DescribeRefreshTaskById'), { scheme: 'v3', action: 'DescribeRefreshTaskById', version: '2018-05-10', format: undefined }],
    ['cdn SDK V3 with STS headers signed', byLabel('cdn5/default+sts DescribeRefreshTaskById'), { scheme: 'v3', action: 'DescribeRefreshTaskById', version: '2018-05-10', format: undefined }],
    // pop-core also sends an *unsigned* x-acs-action header, here lower-cased; V1 must take the
    // action from the signed Action parameter instead.
    ['pop-core with a lower-cased unsigned x-acs-action header', byLabel('pop/GET lowercase param names DescribeRefreshTaskById'), { scheme: 'v1', action: 'DescribeRefreshTaskById', version: '2018-05-10', format: 'JSON' }],
  ];
  for (const [name, c, expected] of cases) {
    test(`${name}: scheme, action, version, format`, async () => {
      const { scheme, action, version, format } = await run(toWire(c), depsFor(c));
      assert.deepEqual({ scheme, action, version, format }, expected);
    });
  }
});

describe('nonce', () => {
  for (const c of [V1_GET, V3]) {
    test(`a replay of the same ${c.headers.authorization ? 'V3' : 'V1'} request is rejected with SignatureNonceUsed`, async () => {
      const nonces = new Set<string>();
      const deps = depsFor(c, { nonces });
      await run(toWire(c), deps);
      // Remembered until the timestamp itself would expire.
      assert.equal(deps.nonceCalls[0][2], signedAt(c) + SKEW);
      await rejects(run(toWire(c), depsFor(c, { nonces })), 'SignatureNonceUsed');
    });
  }

  test('a forged request does not burn the nonce of the genuine one', async () => {
    const nonces = new Set<string>();
    const forged = toWire(V3, { headers: { authorization: V3.headers.authorization.replace(/.$/, (d) => (d === '0' ? '1' : '0')) } });
    await rejects(run(forged, depsFor(V3, { nonces })), 'SignatureDoesNotMatch');
    assert.equal(nonces.size, 0);
    await run(toWire(V3), depsFor(V3, { nonces }));
  });
});

describe('timestamp', () => {
  for (const c of [V1_GET, V3]) {
    const scheme = c.headers.authorization ? 'V3' : 'V1';
    test(`${scheme}: 16 minutes off either way is InvalidTimeStamp.Expired; 14 minutes is fine`, async () => {
      await rejects(run(toWire(c), depsFor(c, { now: signedAt(c) + 16 * MINUTE })), 'InvalidTimeStamp.Expired');
      await rejects(run(toWire(c), depsFor(c, { now: signedAt(c) - 16 * MINUTE })), 'InvalidTimeStamp.Expired');
      await run(toWire(c), depsFor(c, { now: signedAt(c) + 14 * MINUTE }));
      await run(toWire(c), depsFor(c, { now: signedAt(c) - 14 * MINUTE }));
    });
  }

  // Fractional seconds, a space, a rolled-over date, the minutes-only form: none is what clients send.
  for (const bad of ['2026-11-23T13:29:40.000Z', '2026-11-23 13:29:40', '2026-02-30T13:29:40Z', '2026-11-23T13:29Z']) {
    test(`V1 Timestamp ${JSON.stringify(bad)} is InvalidTimeStamp.Format`, async () => {
      const wire = toWire(V1_GET, { url: setQueryParam(V1_GET.url, 'Timestamp', encodeURIComponent(bad)) });
      await rejects(run(wire, depsFor(V1_GET)), 'InvalidTimeStamp.Format');
    });
  }

  test('V1 empty Timestamp counts as missing, not malformed', async () => {
    const wire = toWire(V1_GET, { url: setQueryParam(V1_GET.url, 'Timestamp', '') });
    await rejects(run(wire, depsFor(V1_GET)), 'MissingParameter', '"Timestamp"');
  });

  test('V3 x-acs-date in HTTP-date form is InvalidTimeStamp.Format', async () => {
    const wire = toWire(V3, { headers: { 'x-acs-date': 'Mon, 23 Nov 2026 13:29:40 GMT' } });
    await rejects(run(wire, depsFor(V3)), 'InvalidTimeStamp.Format');
  });
});

describe('access key', () => {
  for (const c of [V1_GET, V3]) {
    test(`${c.headers.authorization ? 'V3' : 'V1'}: unknown key is InvalidAccessKeyId.NotFound, inactive key InvalidAccessKeyId.Inactive`, async () => {
      await rejects(run(toWire(c), depsFor(c, { key: null })), 'InvalidAccessKeyId.NotFound');
      await rejects(run(toWire(c), depsFor(c, { key: { active: false } })), 'InvalidAccessKeyId.Inactive');
    });
  }
});

describe('signature', () => {
  test('V1: a tampered Signature is SignatureDoesNotMatch, and the message shows the server string to sign', async () => {
    const wire = toWire(V1_GET, { url: setQueryParam(V1_GET.url, 'Signature', encodeURIComponent('C7rt+HwT65SvIDmROldFWXK+C8J=')) });
    const serverStringToSign = v1StringToSign('GET', parseParams(toWire(V1_GET)).all);
    assert.match(serverStringToSign, /^GET&%2F&AccessKeyId%3DLTAI5tTestAccessKeyId%26Action%3DDescribeRefreshTaskById/);
    await rejects(run(wire, depsFor(V1_GET)), 'SignatureDoesNotMatch', `server string to sign is:${serverStringToSign}`);
  });

  test('V3: a tampered Authorization signature is SignatureDoesNotMatch', async () => {
    const wire = toWire(V3, { headers: { authorization: V3.headers.authorization.replace('Signature=83', 'Signature=84') } });
    await rejects(run(wire, depsFor(V3)), 'SignatureDoesNotMatch', 'server string to sign is:ACS3-HMAC-SHA256\n');
  });

  test('V3: a changed form body is caught by the x-acs-content-sha256 check', async () => {
    const wire = toWire(V3_FORM, { body: V3_FORM.body.replace('Force=true', 'Force=false') });
    await rejects(run(wire, depsFor(V3_FORM)), 'SignatureDoesNotMatch', 'x-acs-content-sha256');
  });

  test('V1: a changed TaskId is SignatureDoesNotMatch', async () => {
    const wire = toWire(V1_GET, { url: setQueryParam(V1_GET.url, 'TaskId', '1') });
    await rejects(run(wire, depsFor(V1_GET)), 'SignatureDoesNotMatch');
  });
});

describe('malformed or unsupported signatures', () => {
  test('V1 SignatureMethod other than HMAC-SHA1 is InvalidSignatureMethod', async () => {
    const wire = toWire(V1_GET, { url: setQueryParam(V1_GET.url, 'SignatureMethod', 'HMAC-SHA256') });
    await rejects(run(wire, depsFor(V1_GET)), 'InvalidSignatureMethod');
  });

  test('both an Authorization header and a Signature param is IncompleteSignature', async () => {
    const v1WithAuth = toWire(V1_GET, { headers: { authorization: V3.headers.authorization } });
    await rejects(run(v1WithAuth, depsFor(V1_GET)), 'IncompleteSignature');
    const v3WithSignature = toWire(V3, { url: `${V3.url}&Signature=C7rt%2BHwT65SvIDmROldFWXK%2BC8I%3D` });
    await rejects(run(v3WithSignature, depsFor(V3)), 'IncompleteSignature');
  });

  test('an unsigned x-acs-* header added to a V3 request is IncompleteSignature', async () => {
    // Would otherwise let anyone attach e.g. a security token to a request they did not sign.
    const wire = toWire(V3, { headers: { 'x-acs-security-token': 'CAIS.injected' } });
    await rejects(run(wire, depsFor(V3)), 'IncompleteSignature', 'x-acs-security-token');
  });

  test('V3 with ACS3-RSA-SHA256 is InvalidSignatureMethod', async () => {
    const wire = toWire(V3, { headers: { authorization: V3.headers.authorization.replace(/^ACS3-HMAC-SHA256 /, 'ACS3-RSA-SHA256 ') } });
    await rejects(run(wire, depsFor(V3)), 'InvalidSignatureMethod');
  });

  test('the captured ACS4-HMAC-SHA256 request is InvalidSignatureMethod (ACS4 is not supported)', async () => {
    const c = byLabel('cdn5/signatureVersion=v4+gateway-pop(manual) DescribeRefreshTaskById');
    assert.equal(kindOf(c), 'ACS4');
    await rejects(run(toWire(c), depsFor(c)), 'InvalidSignatureMethod');
  });

  test('no signature at all is MissingParameter', async () => {
    await rejects(run(withoutHeader(toWire(V3), 'authorization'), depsFor(V3)), 'MissingParameter', '"Signature"');
    let url = setQueryParam(V1_GET.url, 'Signature', undefined);
    // With AccessKeyId still there the request is recognisably V1, missing only its Signature.
    await rejects(run(toWire(V1_GET, { url }), depsFor(V1_GET)), 'MissingParameter', '"Signature"');
    url = setQueryParam(url, 'AccessKeyId', undefined);
    await rejects(run(toWire(V1_GET, { url }), depsFor(V1_GET)), 'MissingParameter', '"Signature"');
  });
});
