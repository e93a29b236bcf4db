import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULTS, loadConfig, resolveConfig } from '../../src/config/config.js';
import { envName, keys } from '../../src/config/schema.js';

/** One schema for the config file, the environment and the flags; refusals name the key and the nearest valid one. */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'refreshd.js');
const dir = mkdtempSync(join(tmpdir(), 'refreshd-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(value: unknown): string {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(value));
  return f;
}
const cli = (args: string[], env: Record<string, string> = {}) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REFRESHD_')));
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...clean, ...env }, cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('configuration file', () => {
  it('refuses a misspelled key, naming its path and the nearest valid key', () => {
    assert.throws(() => loadConfig({}, file({ engine: { maxAtempts: 3 } })), /unknown key engine\.maxAtempts; did you mean engine\.maxAttempts\?/);
    assert.throws(() => loadConfig({}, file({ maxAttempts: 3 })), /unknown key maxAttempts; did you mean engine\.maxAttempts\?/);
    assert.throws(() => loadConfig({}, file({ webhooks: { nonsenseKeyHere: 1 } })), /unknown key webhooks\.nonsenseKeyHere; valid keys here: webhooks\.pollMs, /);
  });

  it('refuses a wrong type and a value out of range, naming the key', () => {
    assert.throws(() => loadConfig({}, file({ engine: { maxAttempts: '3' } })), /engine\.maxAttempts must be an integer between 1 and 100, got "3"/);
    assert.throws(() => loadConfig({}, file({ engine: { maxAttempts: 0 } })), /engine\.maxAttempts must be an integer between 1 and 100, got 0/);
    assert.throws(() => loadConfig({}, file({ engine: { simulatedFailureRate: 1.5 } })), /engine\.simulatedFailureRate must be a number between 0 and 1/);
    assert.throws(() => loadConfig({}, file({ engine: { simulatedLatencyMs: [500, 100] } })), /engine\.simulatedLatencyMs must be \[min, max\]/);
    assert.throws(() => loadConfig({}, file({ engine: 5 })), /engine must be an object of keys, got 5/);
    assert.throws(() => loadConfig({}, file({ store: 'mysql://x' })), /store must be a postgres:\/\/ URL/);
    assert.throws(() => loadConfig({}, file({ listen: '127.0.0.1' })), /listen must be "HOST:PORT"/);
    assert.throws(() => loadConfig({}, file({ logLevel: 'inof' })), /logLevel must be one of .* \(did you mean info\?\)/);
  });

  it('takes valid values, and reads a relative dataDir from the file\'s directory', () => {
    const cfg = loadConfig({}, file({ listen: '0.0.0.0:8080', dataDir: 'state', engine: { maxAttempts: 3, simulatedLatencyMs: [1, 2] } }));
    assert.deepEqual(cfg.listen, { host: '0.0.0.0', port: 8080 });
    assert.equal(cfg.dataDir, join(dir, 'state'));
    assert.equal(cfg.engine.maxAttempts, 3);
    assert.deepEqual(cfg.engine.simulatedLatencyMs, [1, 2]);
    assert.equal(cfg.engine.retryBaseMs, DEFAULTS.engine.retryBaseMs);
  });
});

describe('environment and flags', () => {
  it('read every key from REFRESHD_* variables, typed by the schema, with flags over env over file', () => {
    const { config, sources } = resolveConfig({
      file: file({ engine: { maxAttempts: 3, pollMs: 50 }, rateLimits: false }),
      env: { REFRESHD_ENGINE_MAX_ATTEMPTS: '7', REFRESHD_ENGINE_SIMULATED_LATENCY_MS: '10,20', REFRESHD_RATE_LIMITS: 'true', REFRESHD_DATA: '/srv/a' },
      flags: { dataDir: '/srv/b', listen: '127.0.0.1:9' },
    });
    assert.equal(config.engine.maxAttempts, 7);
    assert.equal(config.engine.pollMs, 50);
    assert.deepEqual(config.engine.simulatedLatencyMs, [10, 20]);
    assert.equal(config.rateLimits, true);
    assert.equal(config.dataDir, '/srv/b');
    assert.equal(sources['engine.maxAttempts'], 'env REFRESHD_ENGINE_MAX_ATTEMPTS');
    assert.match(sources['engine.pollMs'], /^file \//);
    assert.equal(sources.dataDir, 'flag --data');
    assert.equal(sources.listen, 'flag --listen');
    assert.equal(sources['engine.leaseMs'], 'default');
  });

  it('refuses an unknown REFRESHD_ variable with the nearest one, and a bad value with its variable', () => {
    assert.throws(() => resolveConfig({ env: { REFRESHD_DTA: '/x' } }), /unknown variable REFRESHD_DTA; did you mean REFRESHD_DATA\?/);
    assert.throws(() => resolveConfig({ env: { REFRESHD_ENGINE_MAX_ATTEMPTS: 'five' } }), /REFRESHD_ENGINE_MAX_ATTEMPTS: engine\.maxAttempts must be an integer/);
    assert.throws(() => resolveConfig({ flags: { listen: 'nowhere' } }), /flag: listen must be "HOST:PORT"/);
  });

  it('names every key\'s variable uniquely', () => {
    const names = keys().map(([p, k]) => envName(p, k));
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.includes('REFRESHD_LISTEN') && names.includes('REFRESHD_DATA') && names.includes('REFRESHD_LOG_LEVEL'));
  });
});

describe('refreshd config show and serve', () => {
  it('prints the effective value of every key and where it came from', () => {
    const cfg = file({ engine: { maxAttempts: 2 } });
    const r = cli(['config', 'show', '--config', cfg, '--listen', '127.0.0.1:7171'], { REFRESHD_WEBHOOKS_MAX_ATTEMPTS: '3' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^engine\.maxAttempts +2 +file .*\.json$/m);
    assert.match(r.out, /^webhooks\.maxAttempts +3 +env REFRESHD_WEBHOOKS_MAX_ATTEMPTS$/m);
    assert.match(r.out, /^listen +127\.0\.0\.1:7171 +flag --listen$/m);
    assert.match(r.out, new RegExp(`^dataDir +${join(dir, 'data').replace(/[.]/g, '\\.')} +default$`, 'm'));
    assert.equal(r.out.trim().split('\n').length, keys().length);
    const json = JSON.parse(cli(['config', 'show', '--json', '--store', 'postgres://u:hunter2@db/x']).out);
    assert.deepEqual(json.store, { value: 'postgres://u:***@db/x', source: 'flag --store' });
  });

  it('serve stops before creating anything when the configuration is wrong', () => {
    const data = join(dir, 'never');
    const r = cli(['serve', '--data', data, '--config', file({ engine: { maxAtempts: 3 } })]);
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown key engine\.maxAtempts; did you mean engine\.maxAttempts\?/);
    assert.equal(existsSync(data), false);
  });
});
