import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { makeLogger, startServer, type Running } from '../../src/app.js';
import { loadConfig, type Config, type ConfigOverrides } from '../../src/config/config.js';
import { createKey } from '../../src/identity/keys.js';
import type { SecretBox } from '../../src/identity/secret-box.js';
import { openVault } from '../../src/identity/vault.js';
import type { Product } from '../../src/spec/types.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export const ACCESS_KEY_ID = 'LTAI5tTestAccessKeyId';
export const ACCESS_KEY_SECRET = 'TestSecretKey0123456789abcdef';

export interface TestServer {
  url: string;
  /** Where /metrics is served when the config gives it its own listener. */
  metricsUrl?: string;
  /** host:port, as the cdn SDK wants its endpoint. */
  hostPort: string;
  port: number;
  store: SqliteStore;
  config: Config;
  dataDir: string;
  accountId: number;
  /** The master key of this server's store (the same `<dataDir>/master.key`). */
  vault: SecretBox;
  addDomain(name: string, product?: Product, origin?: string): Promise<void>;
  /** A key with a chosen id and secret, sealed as the server seals them (root key unless userName). */
  addKey(accessKeyId: string, secret: string, opts?: { accountId?: number; userName?: string; active?: boolean }): Promise<void>;
  /** Write the audit records the server still buffers. */
  flushAudit(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real refreshd API server on 127.0.0.1 with a fresh SQLite file in a temp dir and the root
 * key pair fixed to the one the signature fixtures were captured with (test/fixtures). Rate limits are off unless asked for.
 * No worker runs unless `worker: true` (then tasks execute on the store's nodes), so API tests
 * see tasks exactly as accepted: Pending at 0%.
 */
export async function startTestServer(overrides: ConfigOverrides = {}, opts: { worker?: boolean; logger?: Logger } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'refreshd-test-'));
  const config = loadConfig({ dataDir, listen: { host: '127.0.0.1', port: 0 }, rateLimits: false, ...overrides });
  const store = new SqliteStore(join(dataDir, 'refreshd.db'));
  const running: Running = await startServer(config, store, opts.logger ?? makeLogger('silent'), {
    REFRESHD_ACCESS_KEY_ID: ACCESS_KEY_ID,
    REFRESHD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
  }, opts.worker ?? false);
  const vault = await openVault(store, {}, dataDir);
  const url = new URL(running.url);
  return {
    url: running.url,
    metricsUrl: running.metricsUrl,
    hostPort: url.host,
    port: Number(url.port),
    store,
    config,
    dataDir,
    accountId: running.root.account.id,
    vault,
    addDomain: (name, product = 'cdn', origin) =>
      store.domains.addDomain({ name, accountId: running.root.account.id, product, origin: origin ?? null, online: true, nodeGroup: 'default', createdAt: Date.now() }),
    addKey: async (accessKeyId, secret, o = {}) => {
      await createKey(store, vault, o.accountId ?? running.root.account.id, o.userName ?? null, Date.now(), { accessKeyId, secret });
      if (o.active === false) await store.identity.setAccessKeyActive(accessKeyId, false);
    },
    flushAudit: () => running.flushAudit(),
    close: async () => {
      await running.stop();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
