import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cdn, cdnClient } from '../helpers/clients.js';

/**
 * The package as a user gets it: `npm pack`, `npm install -g` into a temp prefix, then the
 * installed `refreshd` run from an unrelated directory and called with Alibaba's SDK.
 *
 * better-sqlite3's native build is the one `npm ci` made for this Node (copied in rather than
 * compiled a second time, which would add minutes per Node version to CI); everything else comes
 * from the tarball and the npm cache.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'refreshd-install-'));
const prefix = join(tmp, 'prefix');
const elsewhere = join(tmp, 'somewhere', 'else');
const KEY = { id: 'LTAI5tInstalledPackage01', secret: 'InstalledPackageSecret0123456' };
const children: ChildProcess[] = [];
let bin: string;

const env = () => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REFRESHD_') && !k.startsWith('npm_'))) });

before(() => {
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', env: env() });
  assert.equal(pack.status, 0, pack.stderr);
  const tarball = join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz'))!);
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], { encoding: 'utf8', env: env(), cwd: tmp });
  assert.equal(install.status, 0, install.stderr);
  const pkg = join(prefix, 'lib', 'node_modules', 'refreshd');
  cpSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build'), join(pkg, 'node_modules', 'better-sqlite3', 'build'), { recursive: true });
  bin = join(prefix, 'bin', 'refreshd');
  mkdirSync(elsewhere, { recursive: true });
});
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('the npm package installed with npm install -g', () => {
  it('holds what it runs on and nothing of the repository beyond it', () => {
    const pkg = join(prefix, 'lib', 'node_modules', 'refreshd');
    for (const f of ['bin/refreshd.js', 'dist/cli/main.js', 'src/http/console/assets/index.html', 'docs/configuration.md', 'deploy/refreshd.service', 'README.md']) {
      assert.ok(existsSync(join(pkg, f)), `${f} missing from the package`);
    }
    for (const f of ['test', 'bench', 'src/app.ts', '.ci']) assert.ok(!existsSync(join(pkg, f)), `${f} should not be packed`);
  });

  it('answers --version from any directory', () => {
    const r = spawnSync(bin, ['--version'], { cwd: elsewhere, encoding: 'utf8', env: env() });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), JSON.parse(spawnSync('npm', ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' }).stdout));
  });

  it('serves from another directory, with its console, and answers the official SDK', async () => {
    const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0'], {
      cwd: elsewhere,
      env: { ...env(), REFRESHD_ACCESS_KEY_ID: KEY.id, REFRESHD_ACCESS_KEY_SECRET: KEY.secret },
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no start-up line: ${out}`)), 30_000);
      child.stderr!.on('data', (c) => (out += c));
      child.stdout!.on('data', (c) => {
        out += c;
        const m = /"listen":"(http:\/\/[^"]+)"/.exec(out);
        if (m) (clearTimeout(timer), resolve(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    assert.ok(existsSync(join(elsewhere, 'data', 'refreshd.db')), 'the store is in ./data of where it was started');
    const client = cdnClient(new URL(url).host, 'v3', { id: KEY.id, secret: KEY.secret });
    const quota = await client.describeRefreshQuota(new Cdn.DescribeRefreshQuotaRequest({}));
    assert.equal(quota.body.urlQuota, '10000');
    const page = await fetch(`${url}/console/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});
