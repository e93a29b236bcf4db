import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeNode } from '../../../src/edges/driver.js';
import { freePort, requireBinary, startDaemon, stopProcess, tailOf, untilReady, waitForPort } from './process.js';

/**
 * A real nginx 1.22 + ngx_cache_purge 2.3 in front of the test origin, from the config tested in
 * research/edges.md §9 (up_nginx): separate purge location (the same-location PURGE syntax
 * segfaults the worker on 2.3), Vary ignored so one object per key, and a probe header that
 * routes misses to a 404 sink without storing them.
 */
export interface NginxEdge {
  node: EdgeNode;
  port: number;
  dir: string;
  /** Tail of nginx's own error log, for assertion messages. */
  errors(): string;
  stop(): Promise<void>;
}

const PURGE_MODULE = '/usr/lib/nginx/modules/ngx_http_cache_purge_module.so';

export async function startNginx(originPort: number): Promise<NginxEdge> {
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
    proxy_cache_path ${dir}/cache levels=1:2 keys_zone=edge:10m max_size=256m inactive=7d use_temp_path=off;
    upstream origin     { server 127.0.0.1:${originPort}; keepalive 16; }
    upstream probe_sink { server 127.0.0.1:${sinkPort}; }
    map $http_x_cache_probe $edge_upstream { default origin; "1" probe_sink; }
    map $request_uri $purge_target { "~^/__purge(?<t>/.*)$" $t; }
    server {
        listen 127.0.0.1:${port};
        location /__purge/ {
            allow 127.0.0.1; deny all;
            proxy_cache_purge edge "$host$purge_target";
        }
        location / {
            proxy_pass http://$edge_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_cache edge;
            proxy_cache_key "$host$request_uri";
            proxy_cache_valid 200 301 302 10m;
            proxy_cache_lock on;
            proxy_set_header Accept-Encoding "";
            proxy_ignore_headers Vary;
            proxy_cache_bypass $http_x_refresh;
            proxy_no_cache $http_x_cache_probe;
            add_header X-Cache $upstream_cache_status always;
        }
    }
    server {
        listen 127.0.0.1:${sinkPort};
        location / { return 404 "MISS\\n"; }
    }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  try {
    return await launch(bin, dir, port);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(bin: string, dir: string, port: number): Promise<NginxEdge> {
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
    errors: () => tailOf(join(dir, 'logs/error.log')),
    stop: async () => {
      // SIGTERM is nginx's fast shutdown: the master stops its workers and exits.
      await stopProcess(daemon.child, 3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
