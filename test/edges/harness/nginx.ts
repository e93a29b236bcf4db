import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeNode } from '../../../src/edges/driver.js';
import { edgeConfig } from './edge-config.js';
import { freePort, requireBinary, startDaemon, stopProcess, tailOf, untilReady, waitForPort } from './process.js';

/**
 * A real nginx 1.22 + ngx_cache_purge 2.3 in front of the test origin, loading the http-level
 * file `refreshd edge config nginx` prints (Debian would include it from conf.d), or, with
 * `debianDefault`, Debian's packaged default site instead (a static server that knows nothing
 * of refreshd: what `node check` must diagnose).
 */
export interface NginxEdge {
  node: EdgeNode;
  port: number;
  dir: string;
  /** The refreshd config file loaded ('' for the Debian default). */
  config: string;
  /** Tail of nginx's own error log, for assertion messages. */
  errors(): string;
  stop(): Promise<void>;
}

const PURGE_MODULE = '/usr/lib/nginx/modules/ngx_http_cache_purge_module.so';

/** The arguments the harness gives `refreshd edge config nginx`. */
export const nginxConfigArgs = (originPort: number, port: number, sinkPort: number, dir: string) =>
  ['--backend', `127.0.0.1:${originPort}`, '--listen', `127.0.0.1:${port}`, '--probe-sink', `127.0.0.1:${sinkPort}`, '--dir', `${dir}/cache`, '--purger', '127.0.0.1'];

export async function startNginx(originPort: number, opts: { debianDefault?: boolean } = {}): Promise<NginxEdge> {
  const bin = requireBinary('nginx');
  try {
    readFileSync(PURGE_MODULE);
  } catch {
    throw new Error(`${PURGE_MODULE} is missing; .ci/run installs libnginx-mod-http-cache-purge`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'refreshd-nginx-'));
  // Started as root, workers run as nobody: they must be able to walk into the temp dir, and the
  // master creates cache/ and the temp paths itself with the worker's owner.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'tmp'));
  const [port, sinkPort] = [await freePort(), await freePort()];
  const config = opts.debianDefault ? '' : edgeConfig('nginx', nginxConfigArgs(originPort, port, sinkPort, dir));
  // Debian's default site, on our port: a static root and try_files, no proxy, no cache.
  const site = `server { listen 127.0.0.1:${port} default_server; root ${dir}/www; index index.html; server_name _; location / { try_files $uri $uri/ =404; } }`;
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'refreshd.conf'), opts.debianDefault ? site : config);
  const conf = `
load_module ${PURGE_MODULE};
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log notice;
events { worker_connections 256; }
http {
    access_log ${dir}/logs/access.log;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path       ${dir}/tmp/proxy;
    fastcgi_temp_path     ${dir}/tmp/fastcgi;
    uwsgi_temp_path       ${dir}/tmp/uwsgi;
    scgi_temp_path        ${dir}/tmp/scgi;
    include ${dir}/refreshd.conf;
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  try {
    return await launch(bin, dir, port, config);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(bin: string, dir: string, port: number, config: string): Promise<NginxEdge> {
  // -e: without it nginx opens /var/log/nginx/error.log before it has read the config.
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs/error.log'), '-g', 'daemon off;'];
  const check = startDaemon(bin, [...args, '-t']);
  const checked = await new Promise<number | null>((resolve) => check.child.once('exit', resolve));
  if (checked !== 0) throw new Error(`nginx -t failed:\n${check.output()}`);
  const daemon = startDaemon(bin, args);
  await untilReady(daemon, waitForPort(port, 10_000), 'nginx', join(dir, 'logs/error.log'), () => stopProcess(daemon.child, 1000));
  return {
    node: { id: 1, name: 'nginx-test', driver: 'nginx', address: `127.0.0.1:${port}`, options: {} },
    port,
    dir,
    config,
    errors: () => tailOf(join(dir, 'logs/error.log')),
    stop: async () => {
      // SIGTERM is nginx's fast shutdown: the master stops its workers and exits.
      await stopProcess(daemon.child, 3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
