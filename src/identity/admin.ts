import type { Product } from '../spec/types.js';
import type { AccessKey, Account, Policy, RamUser, Store } from '../store/port.js';
import { createKey, newAccountUid } from './keys.js';
import { parsePolicy, PolicyError } from './policy.js';
import type { SecretBox } from './secret-box.js';

/**
 * The identity operations behind the admin commands (`refreshd account|user|key|policy`),
 * with the checks that make them safe to run against a live store: names are validated, a
 * key, user or policy is only ever touched inside the account it belongs to, and a secret is
 * returned once, at creation, and never again.
 */
export class IdentityError extends Error {}

const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

export interface NewKey {
  accessKeyId: string;
  secret: string;
}

export async function addAccount(store: Pick<Store, 'identity'>, box: SecretBox, name: string, now = Date.now()): Promise<{ account: Account; key: NewKey }> {
  if (!ACCOUNT_NAME.test(name)) throw new IdentityError(`"${name}" is not an account name (letters, digits, . _ @ -, at most 64)`);
  if (await store.identity.findAccountByName(name)) throw new IdentityError(`account ${name} already exists`);
  const account = await store.identity.createAccount({ uid: await freshUid(store), name, createdAt: now });
  return { account, key: await createKey(store, box, account.id, null, now) };
}

async function freshUid(store: Pick<Store, 'identity'>): Promise<string> {
  const taken = new Set((await store.identity.listAccounts()).map((a) => a.uid));
  for (;;) {
    const uid = newAccountUid();
    if (!taken.has(uid)) return uid;
  }
}

export async function accountNamed(store: Pick<Store, 'identity'>, name: string): Promise<Account> {
  const account = await store.identity.findAccountByName(name);
  if (!account) throw new IdentityError(`no account ${name}`);
  return account;
}

/** Suspend or resume an account's services (every product unless one is named). */
export async function setAccountServices(store: Pick<Store, 'identity'>, name: string, state: 'active' | 'suspended', products: Product[] = ['cdn', 'vod']): Promise<Account> {
  const account = await accountNamed(store, name);
  for (const p of products) await store.identity.setServiceState(account.id, p, state);
  return (await store.identity.getAccount(account.id))!;
}

export async function addUser(store: Pick<Store, 'identity'>, account: Account, name: string, displayName = '', now = Date.now()): Promise<RamUser> {
  if (!USER_NAME.test(name)) throw new IdentityError(`"${name}" is not a user name (letters, digits, . _ @ -, at most 64)`);
  const user = { accountId: account.id, name, displayName, createdAt: now };
  if (!(await store.identity.createUser(user))) throw new IdentityError(`user ${name} already exists in account ${account.name}`);
  return user;
}

export async function userNamed(store: Pick<Store, 'identity'>, account: Account, name: string): Promise<RamUser> {
  const user = await store.identity.findUser(account.id, name);
  if (!user) throw new IdentityError(`no user ${name} in account ${account.name}`);
  return user;
}

export async function removeUser(store: Pick<Store, 'identity'>, account: Account, name: string): Promise<void> {
  if (!(await store.identity.removeUser(account.id, name))) throw new IdentityError(`no user ${name} in account ${account.name}`);
}

/** A new key for the account's root, or for one of its RAM users. */
export async function addKey(store: Pick<Store, 'identity'>, box: SecretBox, account: Account, userName?: string, now = Date.now()): Promise<NewKey> {
  if (userName !== undefined) await userNamed(store, account, userName);
  return createKey(store, box, account.id, userName ?? null, now);
}

/** A key of this account (with `account` given) or of any account. */
export async function keyOf(store: Pick<Store, 'identity'>, accessKeyId: string, account?: Account): Promise<AccessKey> {
  const key = await store.identity.findAccessKey(accessKeyId);
  if (!key || (account && key.accountId !== account.id)) throw new IdentityError(`no AccessKey ${accessKeyId}${account ? ` in account ${account.name}` : ''}`);
  return key;
}

export async function setKeyActive(store: Pick<Store, 'identity'>, accessKeyId: string, active: boolean, account?: Account): Promise<void> {
  await keyOf(store, accessKeyId, account);
  await store.identity.setAccessKeyActive(accessKeyId, active);
}

export async function deleteKey(store: Pick<Store, 'identity'>, accessKeyId: string, account?: Account): Promise<void> {
  await keyOf(store, accessKeyId, account);
  await store.identity.deleteAccessKey(accessKeyId);
}

export async function addPolicy(store: Pick<Store, 'identity'>, account: Account, name: string, document: string, description = '', now = Date.now()): Promise<Policy> {
  if (!POLICY_NAME.test(name)) throw new IdentityError(`"${name}" is not a policy name (letters, digits and -, at most 128)`);
  try {
    parsePolicy(document);
  } catch (err) {
    if (err instanceof PolicyError) throw new IdentityError(`policy ${name}: ${err.message}`);
    throw err;
  }
  const policy = { accountId: account.id, name, description, document, createdAt: now };
  if (!(await store.identity.createPolicy(policy))) throw new IdentityError(`policy ${name} already exists in account ${account.name}`);
  return policy;
}

export async function policyNamed(store: Pick<Store, 'identity'>, account: Account, name: string): Promise<Policy> {
  const policy = await store.identity.findPolicy(account.id, name);
  if (!policy) throw new IdentityError(`no policy ${name} in account ${account.name}`);
  return policy;
}

/** As in RAM, a policy still attached to a user cannot be deleted; detach it first. */
export async function deletePolicy(store: Pick<Store, 'identity'>, account: Account, name: string): Promise<void> {
  await policyNamed(store, account, name);
  const users = (await store.identity.listAttachments(account.id)).filter((a) => a.policyName === name).map((a) => a.userName);
  if (users.length > 0) throw new IdentityError(`policy ${name} is attached to ${users.join(', ')}; detach it first`);
  await store.identity.deletePolicy(account.id, name);
}

export async function attachPolicy(store: Pick<Store, 'identity'>, account: Account, policyName: string, userName: string, now = Date.now()): Promise<void> {
  await policyNamed(store, account, policyName);
  await userNamed(store, account, userName);
  if (!(await store.identity.attachPolicy(account.id, userName, policyName, now))) throw new IdentityError(`policy ${policyName} is already attached to ${userName}`);
}

export async function detachPolicy(store: Pick<Store, 'identity'>, account: Account, policyName: string, userName: string): Promise<void> {
  if (!(await store.identity.detachPolicy(account.id, userName, policyName))) throw new IdentityError(`policy ${policyName} is not attached to ${userName}`);
}
