import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { canonicalQuery, formatUtc } from '../../src/protocol/encoding.js';
import { v1Sign, v1StringToSign } from '../../src/protocol/signature-v1.js';
import { freePort, requireBinary, startDaemon, stopProcess, tailOf, untilReady, waitForPort } from '../edges/harness/process.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * docs/operations.md's nginx TLS proxy, as printed (only the certificate paths, the listen
 * address and refreshd's port are put in), in front of a real refreshd: it passes `nginx -t`,
 * and signed calls through it are answered — among them the largest GET a client may send
 * (1,000 URLs in the query string), which the proxy's header buffers must hold.
 */
const ROOT = new URL('../../', import.meta.url).pathname;
const HOST = 'refreshd.example.com';

function docBlock(): string {
  const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## TLS for the console'));
  const m = /```nginx\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'docs/operations.md has an nginx block under "TLS for the console"');
  return m[1];
}

let server: TestServer;
let dir: string;
let port: number;
let stopNginx: () => Promise<void>;
let agent: Agent;

before(async () => {
  const bin = requireBinary('nginx');
  server = await startTestServer();
  await server.addDomain('example.com', 'cdn');
  dir = mkdtempSync(join(tmpdir(), 'refreshd-tls-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'logs'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`,
    '-addext', `subjectAltName=DNS:${HOST}`, '-keyout', key, '-out', cert], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  port = await freePort();
  const block = docBlock()
    .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
    .replace('/etc/ssl/refreshd/fullchain.pem', cert)
    .replace('/etc/ssl/refreshd/privkey.pem', key)
    .replace('http://127.0.0.1:7070', server.url);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${dir}/tmp-${t};`).join('\n');
  writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log notice;
events { worker_connections 64; }
http {
    access_log off;
${temp}
${block}
}
`);
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs/error.log'), '-g', 'daemon off;'];
  const check = spawnSync(bin, [...args, '-t'], { encoding: 'utf8' });
  assert.equal(check.status, 0, `nginx -t:\n${check.stderr}`);
  const daemon = startDaemon(bin, args);
  stopNginx = () => stopProcess(daemon.child, 3000);
  await untilReady(daemon, waitForPort(port, 10_000), 'nginx', join(dir, 'logs/error.log'), stopNginx);
  agent = new Agent({ connect: { ca: readFileSync(cert), servername: HOST } });
});

after(async () => {
  await agent?.close();
  await stopNginx?.();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A signed GET through the proxy, as pop-core sends it (every parameter in the query string). */
async function call(action: string, params: Record<string, string>) {
  const p = new Map<string, string>([
    ['Action', action], ['Version', '2018-05-10'], ['Format', 'JSON'], ['AccessKeyId', ACCESS_KEY_ID],
    ['SignatureMethod', 'HMAC-SHA1'], ['SignatureVersion', '1.0'], ['SignatureNonce', randomUUID()], ['Timestamp', formatUtc(Date.now())],
    ...Object.entries(params),
  ]);
  p.set('Signature', v1Sign(v1StringToSign('GET', p), ACCESS_KEY_SECRET));
  const path = `/?${canonicalQuery(p)}`;
  const res = await request(`https://127.0.0.1:${port}${path}`, { dispatcher: agent, headers: { host: HOST }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  const json = res.statusCode === 200 ? (JSON.parse(text) as Record<string, unknown>) : {};
  return { status: res.statusCode, text, json, bytes: path.length };
}

describe('docs/operations.md: the nginx TLS proxy', () => {
  it('passes nginx -t and answers a signed call over HTTPS', async () => {
    const r = await call('DescribeRefreshQuota', {});
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.json.UrlRemain, 'string');
  });

  it('passes a 1,000-URL GET (the largest query string a client sends) to refreshd', async () => {
    const urls = Array.from({ length: 1000 }, (_, i) => `http://example.com/assets/build-2026-12-03/chunk-${String(i).padStart(4, '0')}-${'x'.repeat(40)}.js`);
    const r = await call('RefreshObjectCaches', { ObjectPath: urls.join('\n'), ObjectType: 'File' });
    assert.ok(r.bytes > 64 * 1024, `the request line is ${r.bytes} bytes: more than one 64k buffer`);
    assert.equal(r.status, 200, `${r.text}\n${tailOf(join(dir, 'logs/error.log'))}`);
    assert.match(String(r.json.RefreshTaskId), /^\d+$/);
  });
});
