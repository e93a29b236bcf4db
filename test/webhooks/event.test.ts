import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkWebhookUrl } from '../../src/webhooks/admin.js';
import { signWebhook, verifyWebhook } from '../../src/webhooks/event.js';
import { decideDelivery } from '../../src/worker/notifier.js';

describe('webhook signature, retry policy and URL rules', () => {
  const secret = 'a'.repeat(64);
  const body = '{"Event":"TaskFinished"}';

  it('signs t.body with HMAC-SHA256 under the secret text, as the README snippet checks it', () => {
    const header = signWebhook(secret, body, 1_800_000_000);
    assert.equal(header, `t=1800000000,v1=${createHmac('sha256', secret).update(`1800000000.${body}`).digest('hex')}`);
    assert.ok(verifyWebhook(secret, body, header, 1_800_000_000_000));
    assert.ok(!verifyWebhook(secret, body + ' ', header, 1_800_000_000_000), 'body changed');
    assert.ok(!verifyWebhook('b'.repeat(64), body, header, 1_800_000_000_000), 'another secret');
    assert.ok(!verifyWebhook(secret, body, header, 1_800_000_301_000), 'too old: a replay');
    assert.ok(!verifyWebhook(secret, body, header.replace('t=1800000000', 't=1800000001'), 1_800_000_000_000), 'the time is signed');
    assert.ok(!verifyWebhook(secret, body, undefined));
  });

  it('retries with doubling, jittered, capped delays, then gives up after maxAttempts', () => {
    const cfg = { maxAttempts: 8, retryBaseMs: 1000, retryMaxMs: 600_000 };
    const delay = (attempt: number, r: number) => {
      const d = decideDelivery(attempt, 'HTTP 500', cfg, 0, () => r);
      assert.equal(d.state, 'retry');
      return d.state === 'retry' ? d.nextRunAt : 0;
    };
    assert.deepEqual([1, 2, 3].map((a) => delay(a, 0.5)), [1000, 2000, 4000]);
    assert.deepEqual([delay(1, 0), delay(1, 1)], [800, 1200], '±20 % jitter');
    assert.equal(delay(7, 0.5), 64_000);
    assert.equal(delay(7, 0.5) <= 600_000, true);
    assert.deepEqual(decideDelivery(5, 'x', { ...cfg, retryBaseMs: 100_000 }, 0, () => 0.5), { state: 'retry', nextRunAt: 600_000, error: 'x' }, 'capped');
    assert.deepEqual(decideDelivery(8, 'HTTP 500', cfg, 0), { state: 'failed', error: 'gave up after 8 attempts: HTTP 500' });
  });

  it('takes http(s) URLs only, without credentials or fragments', () => {
    assert.equal(checkWebhookUrl('https://hooks.example.com/refreshd?x=1'), 'https://hooks.example.com/refreshd?x=1');
    assert.equal(checkWebhookUrl('http://127.0.0.1:8080'), 'http://127.0.0.1:8080/');
    assert.throws(() => checkWebhookUrl('ftp://example.com/'), /http:\/\/ or https:\/\//);
    assert.throws(() => checkWebhookUrl('javascript:alert(1)'), /http:\/\/ or https:\/\//);
    assert.throws(() => checkWebhookUrl('not a url'), /not a URL/);
    assert.throws(() => checkWebhookUrl('https://u:p@example.com/'), /credentials/);
    assert.throws(() => checkWebhookUrl('https://example.com/#x'), /fragment/);
    assert.throws(() => checkWebhookUrl(`https://example.com/${'x'.repeat(2100)}`), /at most 2048/);
  });
});
