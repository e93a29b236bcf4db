import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/**
 * deploy/refreshd.service passes `systemd-analyze verify` without a warning. verify also checks
 * that ExecStart's program exists, and the machine running the suite has no global refreshd: the
 * unit is verified as written except that path, which points at this checkout's bin/refreshd.js.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const UNIT = readFileSync(join(ROOT, 'deploy', 'refreshd.service'), 'utf8');

describe('deploy/refreshd.service', () => {
  it('runs refreshd serve where npm install -g puts it, on a store under /var/lib/refreshd', () => {
    assert.match(UNIT, /^ExecStart=\/usr\/bin\/refreshd serve$/m);
    assert.match(UNIT, /^Environment=REFRESHD_DATA=\/var\/lib\/refreshd$/m);
    assert.match(UNIT, /^StateDirectory=refreshd$/m);
  });

  it('passes systemd-analyze verify with nothing to say', () => {
    const dir = mkdtempSync(join(tmpdir(), 'refreshd-unit-'));
    try {
      const file = join(dir, 'refreshd.service');
      writeFileSync(file, UNIT.replace(/^ExecStart=\/usr\/bin\/refreshd /m, `ExecStart=${join(ROOT, 'bin', 'refreshd.js')} `));
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      assert.equal(r.error, undefined, 'systemd-analyze not found: install Debian\'s systemd package (CI: .ci/run does)');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'systemd-analyze warned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
