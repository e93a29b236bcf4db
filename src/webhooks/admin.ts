import { randomBytes } from 'node:crypto';
import { IdentityError } from '../identity/admin.js';
import type { SecretBox } from '../identity/secret-box.js';
import type { Account, Store, Webhook, WebhookDelivery } from '../store/port.js';

/**
 * The operations behind `refreshd webhook set|show|remove|deliveries`. The signing secret is
 * made here, returned once, and stored only sealed — with `webhook:<account id>` as the
 * authenticated data, so a webhook secret copied onto an AccessKey row (or another account's
 * webhook) does not open, and neither does an AccessKey secret copied here.
 */
const MAX_URL = 2048;

export function webhookAad(accountId: number): string {
  return `webhook:${accountId}`;
}

/** The secret of a stored webhook; throws when it was not sealed for this account with this master key. */
export function openWebhookSecret(box: SecretBox, accountId: number, secretCipher: string): string {
  return box.open(secretCipher, webhookAad(accountId));
}

/**
 * http or https, with a host, at most 2 KB. Credentials in the URL are refused: the URL is kept
 * and shown in the clear, and requests are signed, so a receiver has no need for them.
 */
export function checkWebhookUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new IdentityError(`"${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new IdentityError(`a webhook URL is http:// or https://, not ${url.protocol}`);
  if (!url.hostname) throw new IdentityError('a webhook URL needs a host');
  if (url.username || url.password) throw new IdentityError('a webhook URL may not carry credentials (user:password@); requests are signed instead');
  if (url.hash) throw new IdentityError('a webhook URL may not have a #fragment');
  if (url.href.length > MAX_URL) throw new IdentityError(`a webhook URL is at most ${MAX_URL} characters`);
  return url.href;
}

/** Set or replace the account's webhook with a new secret (32 random bytes, hex), returned this once. */
export async function setWebhook(store: Pick<Store, 'outbox'>, box: SecretBox, account: Account, url: string, now = Date.now()): Promise<{ url: string; secret: string }> {
  const href = checkWebhookUrl(url);
  const secret = randomBytes(32).toString('hex');
  await store.outbox.setWebhook(account.id, { url: href, secretCipher: box.seal(secret, webhookAad(account.id)) }, now);
  return { url: href, secret };
}

export async function webhookOf(store: Pick<Store, 'outbox'>, account: Account): Promise<Omit<Webhook, 'secretCipher'>> {
  const hook = await store.outbox.getWebhook(account.id);
  if (!hook) throw new IdentityError(`account ${account.name} has no webhook`);
  return { accountId: hook.accountId, url: hook.url, createdAt: hook.createdAt };
}

/** Events already queued for a removed webhook are failed, not sent, when their turn comes. */
export async function removeWebhook(store: Pick<Store, 'outbox'>, account: Account): Promise<void> {
  if (!(await store.outbox.setWebhook(account.id, null, Date.now()))) throw new IdentityError(`account ${account.name} has no webhook`);
}

export async function deliveriesOf(store: Pick<Store, 'outbox'>, account: Account, limit = 100): Promise<WebhookDelivery[]> {
  return store.outbox.listDeliveries(account.id, limit);
}
