import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { canonicalQuery, formatUtc } from '../../src/protocol/encoding.js';
import { v1Sign, v1StringToSign } from '../../src/protocol/signature-v1.js';
import { v3Hash, v3Sign, v3StringToSign } from '../../src/protocol/signature-v3.js';
import { ERRORS, type ErrorCode } from '../../src/spec/errors.js';
import { Cdn, cdnClient, popClient, popRequest } from '../helpers/clients.js';
import { rpc } from '../helpers/rpc.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Attacks on the signature, through a listening server: forged, replayed, expired, truncated
 * and mixed V1/V3 requests are refused with the documented codes (docs/errors.md), and none of
 * them does anything. Replays are byte-for-byte copies of what the official clients sent.
 */
let server: TestServer;
let proxy: { server: Server; hostPort: string; seen: Raw[] };

interface Raw {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
interface Answer {
  status: number;
  json: Record<string, any>;
}

/** Send a request exactly as given (headers included, Host too) and read the JSON answer. */
function send(r: Raw): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method: r.method, path: r.path, headers: r.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text.startsWith('{') ? JSON.parse(text) : { text } }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** A pass-through proxy in front of the server that keeps a copy of every request. */
async function recordingProxy() {
  const seen: Raw[] = [];
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = { method: req.method!, path: req.url!, headers: { ...req.headers }, body: Buffer.concat(chunks) };
      seen.push(raw);
      const fwd = request({ host: '127.0.0.1', port: server.port, method: raw.method, path: raw.path, headers: raw.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.end(raw.body);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { server: srv, hostPort: `127.0.0.1:${(srv.address() as { port: number }).port}`, seen };
}

/** An ACS3-HMAC-SHA256 request built the way the cdn SDK builds one, with knobs to break it. */
function v3(action: string, query: Record<string, string>, o: { date?: string; nonce?: string; secret?: string; body?: string } = {}): Raw {
  const q = new Map(Object.entries(query));
  const body = o.body ?? '';
  const headers: Record<string, string> = {
    host: `127.0.0.1:${server.port}`,
    'x-acs-action': action,
    'x-acs-version': '2018-05-10',
    'x-acs-date': o.date ?? formatUtc(Date.now()),
    'x-acs-signature-nonce': o.nonce ?? randomUUID(),
    'x-acs-content-sha256': v3Hash('ACS3-HMAC-SHA256', body),
  };
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
  const signedHeaders = Object.keys(headers).filter((h) => h !== 'content-type').sort();
  const stringToSign = v3StringToSign({ algorithm: 'ACS3-HMAC-SHA256', method: 'POST', path: '/', query: q, headers, signedHeaders, payloadHash: headers['x-acs-content-sha256'] });
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${ACCESS_KEY_ID},SignedHeaders=${signedHeaders.join(';')},Signature=${v3Sign('ACS3-HMAC-SHA256', stringToSign, o.secret ?? ACCESS_KEY_SECRET)}`;
  const qs = canonicalQuery(q);
  return { method: 'POST', path: qs ? `/?${qs}` : '/', headers, body: Buffer.from(body) };
}

/** A V1 (RPC, HMAC-SHA1) GET as pop-core sends it, as a raw request. */
function v1(action: string, params: Record<string, string>, o: { timestamp?: string; nonce?: string } = {}): { raw: Raw; p: Map<string, string> } {
  const p = new Map(Object.entries({
    Action: action, Version: '2018-05-10', Format: 'JSON', AccessKeyId: ACCESS_KEY_ID, SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0',
    SignatureNonce: o.nonce ?? randomUUID(), Timestamp: o.timestamp ?? formatUtc(Date.now()), ...params,
  }));
  p.set('Signature', v1Sign(v1StringToSign('GET', p), ACCESS_KEY_SECRET));
  return { raw: { method: 'GET', path: `/?${canonicalQuery(p)}`, headers: { host: `127.0.0.1:${server.port}` }, body: Buffer.alloc(0) }, p };
}

const refused = (res: Answer, code: ErrorCode, what: string) => {
  assert.equal(res.json.Code, code, `${what}: ${JSON.stringify(res.json)}`);
  assert.equal(res.status, ERRORS[code].status, what);
};
const rowsOf = async (path: string) => (await rpc(server.url, 'DescribeRefreshTasks', { ObjectPath: path })).json.TotalCount as number;
const ago = (ms: number) => formatUtc(Date.now() - ms);

before(async () => {
  server = await startTestServer();
  await server.addDomain('example.com');
  proxy = await recordingProxy();
});
after(async () => {
  proxy.server.close();
  await server.close();
});

describe('forged requests', () => {
  it('signed with a wrong secret, V1 and V3: SignatureDoesNotMatch, nothing stored', async () => {
    refused(await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/forged1' }, { secret: 'guessed' }), 'SignatureDoesNotMatch', 'V1');
    refused(await send(v3('RefreshObjectCaches', { ObjectPath: 'example.com/forged2' }, { secret: 'guessed' })), 'SignatureDoesNotMatch', 'V3');
    await assert.rejects(
      cdnClient(server.hostPort, 'v3', { id: ACCESS_KEY_ID, secret: ACCESS_KEY_SECRET + 'x' }).refreshObjectCaches(new Cdn.RefreshObjectCachesRequest({ objectPath: 'example.com/forged3' })),
      (e: any) => e.code === 'SignatureDoesNotMatch',
    );
    for (const p of ['forged1', 'forged2', 'forged3']) assert.equal(await rowsOf(`example.com/${p}`), 0);
  });

  it('a genuine signature over different parameters: SignatureDoesNotMatch', async () => {
    refused(await rpc(server.url, 'RefreshObjectCaches', { ObjectPath: 'example.com/signed' }, { tamper: (p) => p.set('ObjectPath', 'example.com/swapped') }), 'SignatureDoesNotMatch', 'V1 param changed');
    const genuine = v3('RefreshObjectCaches', { ObjectPath: 'example.com/signed' });
    refused(await send({ ...genuine, path: genuine.path.replace('signed', 'swapped') }), 'SignatureDoesNotMatch', 'V3 query changed');
    refused(await send({ ...genuine, headers: { ...genuine.headers, 'x-acs-action': 'PushObjectCache' } }), 'SignatureDoesNotMatch', 'V3 action changed');
    const withBody = v3('RefreshObjectCaches', {}, { body: 'ObjectPath=example.com%2Fbody' });
    refused(await send({ ...withBody, body: Buffer.from('ObjectPath=example.com%2Fother') }), 'SignatureDoesNotMatch', 'V3 body changed');
    assert.equal(await rowsOf('example.com/swapped'), 0);
  });

  it('an unknown AccessKeyId: InvalidAccessKeyId.NotFound', async () => {
    refused(await rpc(server.url, 'DescribeRefreshQuota', {}, { accessKeyId: 'LTAIforgedForgedForged' }), 'InvalidAccessKeyId.NotFound', 'V1');
  });
});

describe('replayed requests', () => {
  it("an official client's request sent again, byte for byte: SignatureNonceUsed, no second task", async () => {
    const before = proxy.seen.length;
    await cdnClient(proxy.hostPort, 'v3').refreshObjectCaches(new Cdn.RefreshObjectCachesRequest({ objectPath: 'example.com/replay-v3' }));
    await cdnClient(proxy.hostPort, 'v2').refreshObjectCaches(new Cdn.RefreshObjectCachesRequest({ objectPath: 'example.com/replay-v2' }));
    await popRequest(popClient(`http://${proxy.hostPort}`), 'RefreshObjectCaches', { ObjectPath: 'example.com/replay-pop' });
    await popRequest(popClient(`http://${proxy.hostPort}`), 'RefreshObjectCaches', { ObjectPath: 'example.com/replay-pop-post' }, 'POST');
    const recorded = proxy.seen.slice(before);
    assert.equal(recorded.length, 4);
    assert.ok(recorded[0].headers.authorization?.startsWith('ACS3-HMAC-SHA256'), 'the first is ACS3');
    assert.ok(recorded[1].path.includes('Signature='), 'the second is RPC V1');
    for (const r of recorded) refused(await send(r), 'SignatureNonceUsed', `${r.method} ${r.path.slice(0, 60)}`);
    for (const p of ['replay-v3', 'replay-v2', 'replay-pop', 'replay-pop-post']) assert.equal(await rowsOf(`example.com/${p}`), 1, p);
  });

  it('a replay with a fresh nonce breaks the signature (the nonce is signed)', async () => {
    const { p } = v1('RefreshObjectCaches', { ObjectPath: 'example.com/renonce' });
    assert.equal((await send({ method: 'GET', path: `/?${canonicalQuery(p)}`, headers: { host: `127.0.0.1:${server.port}` }, body: Buffer.alloc(0) })).status, 200);
    p.set('SignatureNonce', randomUUID());
    refused(await send({ method: 'GET', path: `/?${canonicalQuery(p)}`, headers: {}, body: Buffer.alloc(0) }), 'SignatureDoesNotMatch', 'V1 new nonce');
    const genuine = v3('DescribeRefreshQuota', {});
    assert.equal((await send(genuine)).status, 200);
    refused(await send({ ...genuine, headers: { ...genuine.headers, 'x-acs-signature-nonce': randomUUID() } }), 'SignatureDoesNotMatch', 'V3 new nonce');
    assert.equal(await rowsOf('example.com/renonce'), 1);
  });
});

describe('expired requests', () => {
  it('a timestamp outside the 15-minute window, past or future, V1 and V3: InvalidTimeStamp.Expired', async () => {
    for (const ms of [16 * 60_000, -16 * 60_000, 86_400_000]) {
      refused(await send(v1('RefreshObjectCaches', { ObjectPath: 'example.com/old' }, { timestamp: ago(ms) }).raw), 'InvalidTimeStamp.Expired', `V1 ${ms}`);
      refused(await send(v3('RefreshObjectCaches', { ObjectPath: 'example.com/old' }, { date: ago(ms) })), 'InvalidTimeStamp.Expired', `V3 ${ms}`);
    }
    refused(await send(v1('DescribeRefreshQuota', {}, { timestamp: '2026-11-23T10:00' }).raw), 'InvalidTimeStamp.Format', 'V1 malformed');
    assert.equal(await rowsOf('example.com/old'), 0);
    assert.equal((await send(v1('DescribeRefreshQuota', {}, { timestamp: ago(14 * 60_000) }).raw)).status, 200, 'inside the window');
  });
});

describe('truncated signatures', () => {
  it('V1: a Signature cut short or emptied is refused', async () => {
    const { p } = v1('RefreshObjectCaches', { ObjectPath: 'example.com/trunc1' });
    const sig = p.get('Signature')!;
    for (const cut of [sig.slice(0, -1), sig.slice(0, 10), sig.replace(/=+$/, '')]) {
      p.set('Signature', cut);
      refused(await send({ method: 'GET', path: `/?${canonicalQuery(p)}`, headers: {}, body: Buffer.alloc(0) }), 'SignatureDoesNotMatch', `V1 ${cut}`);
    }
    p.set('Signature', '');
    refused(await send({ method: 'GET', path: `/?${canonicalQuery(p)}`, headers: {}, body: Buffer.alloc(0) }), 'MissingParameter', 'V1 empty');
    assert.equal(await rowsOf('example.com/trunc1'), 0);
  });

  it('V3: a shortened Signature, a cut Authorization header or a short body is refused', async () => {
    const r = v3('RefreshObjectCaches', { ObjectPath: 'example.com/trunc2' });
    const auth = r.headers.authorization as string;
    refused(await send({ ...r, headers: { ...r.headers, authorization: auth.slice(0, -1) } }), 'SignatureDoesNotMatch', 'one hex digit short');
    refused(await send({ ...r, headers: { ...r.headers, authorization: auth.slice(0, auth.indexOf(',Signature=')) } }), 'IncompleteSignature', 'no Signature part');
    refused(await send({ ...r, headers: { ...r.headers, authorization: auth.slice(0, auth.indexOf('SignedHeaders=') + 20) } }), 'IncompleteSignature', 'cut in SignedHeaders');
    refused(await send({ ...r, headers: { ...r.headers, authorization: 'ACS3-HMAC-SHA256' } }), 'IncompleteSignature', 'algorithm only');
    const withBody = v3('RefreshObjectCaches', {}, { body: 'ObjectPath=example.com%2Ftrunc3' });
    refused(await send({ ...withBody, body: withBody.body.subarray(0, 20) }), 'SignatureDoesNotMatch', 'truncated body');
    assert.equal(await rowsOf('example.com/trunc2'), 0);
    assert.equal(await rowsOf('example.com/trunc3'), 0);
  });
});

describe('mixed V1/V3 requests', () => {
  it('an Authorization header and a Signature parameter together: IncompleteSignature', async () => {
    const r3 = v3('RefreshObjectCaches', { ObjectPath: 'example.com/mixed' });
    const { p } = v1('RefreshObjectCaches', { ObjectPath: 'example.com/mixed' });
    refused(await send({ ...r3, path: `${r3.path}&Signature=${encodeURIComponent(p.get('Signature')!)}` }), 'IncompleteSignature', 'V3 + V1 Signature param');
    refused(await send({ method: 'GET', path: `/?${canonicalQuery(p)}`, headers: { authorization: r3.headers.authorization as string }, body: Buffer.alloc(0) }), 'IncompleteSignature', 'V1 + V3 header');
    assert.equal(await rowsOf('example.com/mixed'), 0);
  });

  it('a V1 signature in an ACS3 header, or HMAC-SHA1 as an ACS3 algorithm, is refused', async () => {
    const r3 = v3('DescribeRefreshQuota', {});
    const { p } = v1('DescribeRefreshQuota', {});
    const auth = (r3.headers.authorization as string).replace(/Signature=[0-9a-f]+$/, `Signature=${p.get('Signature')}`);
    refused(await send({ ...r3, headers: { ...r3.headers, authorization: auth } }), 'SignatureDoesNotMatch', 'V1 signature in ACS3');
    refused(await send({ ...r3, headers: { ...r3.headers, authorization: (r3.headers.authorization as string).replace('ACS3-HMAC-SHA256', 'HMAC-SHA1') } }), 'InvalidSignatureMethod', 'HMAC-SHA1 in ACS3');
    refused(await rpc(server.url, 'DescribeRefreshQuota', {}, { tamper: (q) => q.set('SignatureMethod', 'ACS3-HMAC-SHA256') }), 'InvalidSignatureMethod', 'ACS3 algorithm in V1');
    refused(await send({ ...r3, headers: { ...r3.headers, 'x-acs-unsigned': 'injected' } }), 'IncompleteSignature', 'an unsigned x-acs header');
  });
});
