import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLogger, startServer, type Running } from '../../src/app.js';
import { loadConfig, type Config, type ConfigOverrides } from '../../src/config/config.js';
import type { Product } from '../../src/spec/types.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export const ACCESS_KEY_ID = 'LTAI5tTestAccessKeyId';
export const ACCESS_KEY_SECRET = 'TestSecretKey0123456789abcdef';

export interface TestServer {
  url: string;
  /** host:port, as the cdn SDK wants its endpoint. */
  hostPort: string;
  port: number;
  store: SqliteStore;
  config: Config;
  dataDir: string;
  accountId: number;
  addDomain(name: string, product?: Product, origin?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real refreshd API server on 127.0.0.1 with a fresh SQLite file in a temp dir and the root
 * key pair fixed to the one used in research/captures. Rate limits are off unless asked for.
 * No worker runs unless `worker: true` (then tasks execute on the store's nodes), so API tests
 * see tasks exactly as accepted: Pending at 0%.
 */
export async function startTestServer(overrides: ConfigOverrides = {}, opts: { worker?: boolean } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'refreshd-test-'));
  const config = loadConfig({ dataDir, listen: { host: '127.0.0.1', port: 0 }, rateLimits: false, ...overrides });
  const store = new SqliteStore(join(dataDir, 'refreshd.db'));
  const running: Running = await startServer(config, store, makeLogger('silent'), {
    REFRESHD_ACCESS_KEY_ID: ACCESS_KEY_ID,
    REFRESHD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
  }, opts.worker ?? false);
  const url = new URL(running.url);
  return {
    url: running.url,
    hostPort: url.host,
    port: Number(url.port),
    store,
    config,
    dataDir,
    accountId: running.root.account.id,
    addDomain: (name, product = 'cdn', origin) =>
      store.addDomain({ name, accountId: running.root.account.id, product, origin: origin ?? null, online: true, nodeGroup: 'default', createdAt: Date.now() }),
    close: async () => {
      await running.stop();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
