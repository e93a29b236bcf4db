import assert from 'node:assert/strict';
import { GATEWAY_ERRORS } from '../../src/spec/errors.js';
import { productForVersion } from '../../src/spec/index.js';

/**
 * Every error code each action was seen answering in this test process (rpc() records them), so
 * a suite can check that the action's table entry lists each (ActionSpec.errors).
 */
const seen = new Map<string, { version: string; action: string; codes: Set<string> }>();

export function recordAnswer(version: string, action: string, code: unknown): void {
  if (typeof code !== 'string' || code === '') return;
  const key = `${version} ${action}`;
  const entry = seen.get(key) ?? { version, action, codes: new Set() };
  entry.codes.add(code);
  seen.set(key, entry);
}

/** Fails naming each code an action answered that neither its `errors`, its rate-limit code nor GATEWAY_ERRORS list. */
export function assertAnsweredErrorsListed(): void {
  const unlisted: string[] = [];
  let checked = 0;
  for (const { version, action, codes } of seen.values()) {
    const spec = productForVersion(version)?.actions[action];
    if (!spec || !Object.hasOwn(productForVersion(version)!.actions, action)) continue; // not an action: nothing to list it in
    const allowed = new Set<string>([...spec.errors, spec.rateLimit.error, ...GATEWAY_ERRORS]);
    for (const code of codes) {
      checked++;
      if (!allowed.has(code)) unlisted.push(`${action}: ${code}`);
    }
  }
  assert.ok(checked > 0, 'no error answer was recorded');
  assert.deepEqual(unlisted, [], 'codes answered but not in the action table');
}
