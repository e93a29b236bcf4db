import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoff } from '../../src/worker/backoff.js';

describe('backoff', () => {
  it('doubles from the base per attempt, up to the cap, with ±20 % jitter', () => {
    assert.deepEqual([1, 2, 3, 4].map((a) => backoff(a, 100, 1_000, () => 0.5)), [100, 200, 400, 800]);
    assert.equal(backoff(5, 100, 1_000, () => 0.5), 1_000, 'capped');
    assert.equal(backoff(1, 1_000, 60_000, () => 0), 800);
    assert.equal(backoff(1, 1_000, 60_000, () => 1), 1_200);
  });
});
