import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { splitConfigFiles } from '../../src/edges/config/options.js';
import { BIN } from '../helpers/admin-cli.js';
import { atsConfigArgs, startAts } from './harness/ats.js';
import { edgeConfig } from './harness/edge-config.js';
import { nginxConfigArgs, startNginx } from './harness/nginx.js';
import { startOrigin, type Origin } from './harness/origin.js';
import { squidConfigArgs, startSquid } from './harness/squid.js';
import { startVarnish, varnishConfigArgs } from './harness/varnish.js';

/**
 * `refreshd edge config` is the one source of each cache's configuration: what the running test
 * servers loaded is exactly what the command prints (read back from the servers where they tell:
 * Varnish's loaded VCL, nginx -T), every variant compiles in the real server, and bad options are
 * refused with the reason.
 */
let origin: Origin;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'edge', 'config', ...args], { encoding: 'utf8' });

describe('edge config: what the servers load is what the command prints', () => {
  it('varnish: the VCL varnishd runs is the printed one', async () => {
    const v = await startVarnish(origin.port);
    try {
      const shown = spawnSync('varnishadm', ['-n', join(v.dir, 'inst'), 'vcl.show', 'boot'], { encoding: 'utf8' });
      assert.equal(shown.status, 0, shown.stderr);
      assert.equal(shown.stdout.trimEnd(), edgeConfig('varnish', varnishConfigArgs(origin.port)).trimEnd());
    } finally {
      await v.stop();
    }
  });

  it('nginx: nginx -T shows the printed file included', async () => {
    const edge = await startNginx(origin.port);
    try {
      const dump = spawnSync('nginx', ['-T', '-p', edge.dir, '-c', join(edge.dir, 'nginx.conf'), '-e', join(edge.dir, 'logs/error.log')], { encoding: 'utf8' });
      const port = Number(edge.node.address.split(':')[1]);
      const sink = /listen 127\.0\.0\.1:(\d+);\n    location \/ \{ return 404/.exec(edge.config)![1];
      const printed = edgeConfig('nginx', nginxConfigArgs(origin.port, port, Number(sink), edge.dir));
      assert.equal(edge.config, printed);
      assert.ok(dump.stdout.includes(`# configuration file ${join(edge.dir, 'refreshd.conf')}:\n${printed}`), dump.stdout.slice(0, 2000));
    } finally {
      await edge.stop();
    }
  });

  it('squid: the included fragment is the printed one', async () => {
    const edge = await startSquid(origin.port);
    try {
      assert.equal(readFileSync(join(edge.dir, 'refreshd.conf'), 'utf8'), edgeConfig('squid', squidConfigArgs(origin.port, edge.port)));
      assert.match(readFileSync(edge.config, 'utf8'), new RegExp(`^include ${join(edge.dir, 'refreshd.conf')}$`, 'm'));
    } finally {
      await edge.stop();
    }
  });

  it('ats: every printed file is in place (records lines replaced)', async () => {
    const edge = await startAts(origin.port);
    try {
      const files = splitConfigFiles(edgeConfig('ats', atsConfigArgs(origin.port, edge.port, edge.dir)));
      assert.deepEqual([...files.keys()].slice(0, 4), ['records.config', 'plugin.config', 'remap.config', 'ip_allow.yaml']);
      const records = readFileSync(join(edge.dir, 'etc', 'records.config'), 'utf8');
      for (const line of files.get('records.config')!.split('\n').filter((l) => l.startsWith('CONFIG '))) {
        assert.equal(records.split('\n').filter((l) => l.startsWith(line.split(' ').slice(0, 2).join(' ') + ' ')).join('\n'), line);
      }
      for (const [name, text] of files) {
        if (name !== 'records.config') assert.equal(readFileSync(name.startsWith('/') ? name : join(edge.dir, 'etc', name), 'utf8'), text, name);
      }
    } finally {
      await edge.stop();
    }
  });
});

describe('edge config: variants compile, bad options are refused', () => {
  it('several purgers (IPv4 and IPv6 CIDRs) and tag headers: varnishd, nginx and squid accept them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'refreshd-edgecfg-'));
    const purgers = ['--purger', '10.0.0.0/8', '--purger', '192.168.1.7', '--purger', 'fd00::/8'];
    const vcl = cli('varnish', ...purgers, '--tag-header', 'Surrogate-Key', '--tag-header', 'xkey-tags');
    assert.equal(vcl.status, 0, vcl.stderr);
    assert.match(vcl.stdout, /"10\.0\.0\.0"\/8;\n {4}"192\.168\.1\.7";\n {4}"fd00::"\/8;/);
    writeFileSync(join(dir, 'r.vcl'), vcl.stdout);
    const compiled = spawnSync('varnishd', ['-C', '-j', 'none', '-f', join(dir, 'r.vcl'), '-n', join(dir, 'inst')], { encoding: 'utf8' });
    assert.equal(compiled.status, 0, compiled.stderr);

    const conf = cli('nginx', ...purgers, '--dir', join(dir, 'cache'), '--listen', '127.0.0.1:1', '--probe-sink', '127.0.0.1:2');
    assert.match(conf.stdout, /allow 10\.0\.0\.0\/8;\n {8}allow 192\.168\.1\.7;\n {8}allow fd00::\/8;\n {8}deny all;/);
    writeFileSync(join(dir, 'refreshd.conf'), conf.stdout);
    writeFileSync(join(dir, 'nginx.conf'), `load_module /usr/lib/nginx/modules/ngx_http_cache_purge_module.so;\npid ${dir}/n.pid;\nevents {}\nhttp { include ${dir}/refreshd.conf; }\n`);
    const tested = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { encoding: 'utf8' });
    assert.equal(tested.status, 0, tested.stderr);

    const squid = cli('squid', ...purgers, '--listen', '127.0.0.1:1');
    writeFileSync(join(dir, 'squid.conf'), `${squid.stdout}pid_filename ${dir}/s.pid\ncache_log ${dir}/cache.log\n`);
    const parsed = spawnSync('squid', ['-k', 'parse', '-f', join(dir, 'squid.conf')], { encoding: 'utf8' });
    assert.equal(parsed.status, 0, parsed.stderr);
    assert.doesNotMatch(parsed.stderr, /ERROR|WARNING/);
  });

  it('refuses what it cannot print, with the reason', () => {
    const cases: [string[], RegExp][] = [
      [['varnish', '--purger', '10.0.0.0/33'], /--purger wants an IP address or CIDR \(10\.0\.0\.0\/8, ::1\), got "10\.0\.0\.0\/33"/],
      [['varnish', '--purger', 'example.com'], /--purger wants an IP address or CIDR/],
      [['varnish', '--backend', 'origin'], /--backend wants HOST:PORT, got "origin"/],
      [['varnish', '--tag-header', 'a b'], /--tag-header wants a header name/],
      [['ats'], /ats needs --domain NAME/],
      [['ats', '--domain', 'a.example=ftp://x'], /--domain a\.example=URL wants an http\(s\) URL/],
      [['haproxy'], /edge config wants one of varnish, nginx, ats, squid, got "haproxy"/],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
