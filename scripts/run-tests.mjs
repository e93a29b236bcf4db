#!/usr/bin/env node
// Runs the whole suite with node's test runner (Node 20's --test has no globs, so list files).
// Extra arguments narrow the run: `npm test -- test/protocol` runs only files under that path.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = find('test').filter((f) => filters.length === 0 || filters.some((x) => f.startsWith(x) || f.includes(x))).sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
// The build checks src/ only; tests, benches and scripts run through tsx, which does not check
// types, so the whole suite (what CI runs) type-checks them first; a narrowed run skips it.
if (filters.length === 0) {
  const check = spawnSync('npx', ['tsc', '-p', 'tsconfig.check.json'], { stdio: 'inherit' });
  if (check.status !== 0) process.exit(check.status ?? 1);
}
const reporter = process.stdout.isTTY ? [] : ['--test-reporter=spec'];
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporter, ...files], { stdio: 'inherit', env: { ...process.env, REFRESHD_LOG_LEVEL: process.env.REFRESHD_LOG_LEVEL ?? 'silent' } });
process.exit(result.status ?? 1);
