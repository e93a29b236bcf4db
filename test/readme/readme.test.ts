import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EdgeHttpClient } from '../../src/edges/http-client.js';
import { BIN } from '../helpers/admin-cli.js';
import { startOrigin, type Origin } from '../edges/harness/origin.js';
import { freePort } from '../edges/harness/process.js';
import { startVarnish, type Varnish } from '../edges/harness/varnish.js';

/**
 * README.md's walkthrough on a fresh data dir: `refreshd serve` from "Run it" (the reader's key
 * chosen through REFRESHD_ACCESS_KEY_ID/SECRET, as it says), then the first block of "Try it",
 * then "Real cache servers", run as printed: every `refreshd …` line through the real CLI,
 * `varnishd …` by the Varnish harness with the VCL the previous line wrote. Only addresses differ
 * (free ports for 127.0.0.1:8080, :6081 and the API's :7070, through REFRESHD_LISTEN and
 * REFRESHD_ENDPOINT). The last refresh must really purge: Varnish served the old body as a HIT
 * before it and fetches the new one after. (test/docs runs the other blocks on the simulated
 * fleet; these need a real Varnish.)
 */
const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The command lines of a section's sh blocks (only the first block's with `first`), in order. */
function block(heading: string, first = false): string[] {
  const from = readme.indexOf(`## ${heading}\n`);
  assert.ok(from >= 0, `README has no "## ${heading}"`);
  const end = readme.indexOf('\n## ', from + 1);
  const blocks = [...readme.slice(from, end < 0 ? undefined : end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length > 0, `no sh block under ${heading}`);
  return (first ? blocks.slice(0, 1) : blocks).join('').split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** Shell words: plain, "double-quoted" (with $PWD) and 'single-quoted'. */
function words(line: string, cwd: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? m[3]).replace(/\$PWD/g, cwd));
}

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

const children: ChildProcess[] = [];
let origin: Origin | undefined;
let varnish: Varnish | undefined;
after(async () => {
  for (const c of children) c.kill('SIGTERM');
  await varnish?.stop();
  await origin?.close();
});

describe('README: Try it, then Real cache servers', () => {
  it('works verbatim on a fresh data dir, and the last refresh really purges Varnish', { timeout: 120_000 }, async () => {
    origin = await startOrigin();
    const [varnishPort, apiPort] = [await freePort(), await freePort()];
    const cwd = mkdtempSync(join(tmpdir(), 'refreshd-readme-'));
    const env: NodeJS.ProcessEnv = {
      // A reader's shell: none of this process's REFRESHD_* settings (the config refuses unknown ones).
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REFRESHD_'))), REFRESHD_DATA: join(cwd, 'data'), REFRESHD_LISTEN: `127.0.0.1:${apiPort}`, REFRESHD_ENDPOINT: `http://127.0.0.1:${apiPort}`,
      HOME: cwd, REFRESHD_LOG_LEVEL: 'warn', REFRESHD_ACCESS_KEY_ID: 'LTAI5tReadmeWalkthrough01', REFRESHD_ACCESS_KEY_SECRET: 'ReadmeWalkthroughSecret0123456789',
    };
    const local = (line: string) => line.replaceAll('127.0.0.1:8080', `127.0.0.1:${origin!.port}`).replaceAll('127.0.0.1:6081', `127.0.0.1:${varnishPort}`);
    const http = new EdgeHttpClient({ connectionsPerNode: 1, timeoutMs: 5000 });
    const get = () => http.send(`127.0.0.1:${varnishPort}`, { method: 'GET', path: '/index.html', headers: { host: 'www.example.com' } });
    const outputs: string[] = [];

    const run = async (line: string, last: boolean) => {
      let w = words(local(line), cwd);
      if (w[0] === 'varnishd') {
        const vcl = readFileSync(w[w.indexOf('-f') + 1], 'utf8');
        varnish = await startVarnish(origin!.port, {}, vcl, varnishPort);
        return;
      }
      assert.equal(w[0], 'refreshd', `README line not understood: ${line}`);
      const background = w[1] === 'serve';
      let redirect: string | undefined;
      if (w.at(-2) === '>') (redirect = w.at(-1), (w = w.slice(0, -2)));
      const args = w.slice(1);
      if (background) {
        const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
        children.push(child);
        await new Promise<void>((resolve, reject) => {
          let out = '';
          const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 20_000);
          child.stdout!.on('data', (c) => ((out += c), /listening on/.test(out) && (clearTimeout(timer), resolve())));
          child.stderr!.on('data', (c) => (out += c));
        });
        return;
      }
      if (last) {
        // Cached before the purge, with the origin's next version waiting behind it.
        await get();
        const hit = await get();
        assert.equal(hit.headers['x-cache'], 'HIT');
        origin!.bump('/index.html');
        assert.equal((await get()).text, '/index.html v1\n', 'Varnish still serves the old body');
      }
      // Not spawnSync: the origin and the checks run on this process's event loop.
      const r = await cli(args, cwd, env);
      assert.equal(r.status, 0, `${line}\n${r.stdout}${r.stderr}`);
      if (redirect) writeFileSync(join(cwd, redirect), r.stdout);
      outputs.push(`$ ${line}\n${r.stdout}${r.stderr}`);
    };

    const lines = [block('Run it', true)[0], ...block('Try it', true), ...block('Real cache servers')];
    try {
      for (const [i, line] of lines.entries()) await run(line, i === lines.length - 1);
      const after = await get();
      assert.equal(after.headers['x-cache'], 'MISS', 'the purge evicted the object');
      assert.equal(after.text, '/index.html v2\n', 'the next request fetched the new body');
      const list = outputs.find((o) => o.startsWith('$ refreshd node list'))!;
      assert.doesNotMatch(list, /SIMULATED|sim-/, list);
      assert.match(list, /edge-1\tvarnish\t.*group=eu.*verify=probe/);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- CLI so far ---\n${outputs.join('\n')}`);
    } finally {
      await http.close();
    }
  });
});
