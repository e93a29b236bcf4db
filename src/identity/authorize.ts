import type { KeyRecord } from '../protocol/authenticate.js';
import { ApiError } from '../spec/errors.js';
import type { ActionSpec, ProductSpec } from '../spec/types.js';
import type { Account, Store } from '../store/port.js';
import { evaluate, parsePolicy, type Decision, type PolicyDocument } from './policy.js';

/**
 * RAM authorization, after authentication and before anything reads the account's data.
 * Root-account keys may do everything in their own account. A RAM user's call is evaluated
 * against the policies attached to the user: Deny over Allow, and nothing allowed unless a
 * statement allows it (implicit deny). A refusal is `Forbidden.RAM` with an AccessDeniedDetail.
 */
export async function authorize(
  store: Pick<Store, 'identity'>, key: KeyRecord, account: Account, product: ProductSpec, action: ActionSpec, raw: Map<string, string>,
): Promise<void> {
  if (key.accountId !== account.id) throw denied(key, account, action, { decision: 'ImplicitDeny', resource: '*' });
  if (key.userName === undefined) return;
  const policies = await store.identity.policiesOfUser(account.id, key.userName);
  const parsed = policies.map((p) => ({ name: p.name, doc: parsedPolicy(p.document) }));
  const decision = evaluate(parsed, action.ramAction, ramResources(product, action, account, raw));
  if (decision.decision !== 'Allow') throw denied(key, account, action, decision);
}

/**
 * The RAM resources a call touches, as the action table declares: for domain-scoped actions
 * `acs:<product>:*:<accountUid>:domain/<DomainName>` for each domain named in DomainName (a
 * comma-separated list, lower-cased as the describe filter reads it), or `domain/*` when none
 * is named; `*` for every other action. Read from the raw parameters: this runs before validation.
 */
export function ramResources(product: ProductSpec, action: ActionSpec, account: Account, raw: Map<string, string>): string[] {
  if (action.resource !== 'domain') return ['*'];
  const prefix = `acs:${product.product}:*:${account.uid}:domain/`;
  const domains = [...new Set((raw.get('DomainName') ?? '').split(',').map((d) => d.trim().toLowerCase()).filter((d) => d !== ''))];
  return domains.length === 0 ? [prefix + '*'] : domains.map((d) => prefix + d);
}

function denied(key: KeyRecord, account: Account, action: ActionSpec, d: Exclude<Decision, { decision: 'Allow' }>): ApiError {
  const diagnostic = {
    AuthAction: action.ramAction,
    AuthResource: d.resource,
    NoPermissionType: d.decision,
    ...(d.decision === 'ExplicitDeny' ? { PolicyName: d.policy } : {}),
  };
  return new ApiError('Forbidden.RAM', {
    extra: {
      AccessDeniedDetail: {
        AuthAction: action.ramAction,
        AuthPrincipalDisplayName: key.userName ?? account.uid,
        AuthPrincipalOwnerId: account.uid,
        AuthPrincipalType: key.userName === undefined ? 'Account' : 'SubUser',
        NoPermissionType: d.decision,
        PolicyType: 'AccountLevelIdentityBasedPolicy',
        EncodedDiagnosticMessage: Buffer.from(JSON.stringify(diagnostic)).toString('base64'),
      },
    },
  });
}

/** Parsed documents by their text: a RAM user's policies are evaluated on every call. */
const parsedCache = new Map<string, PolicyDocument>();

function parsedPolicy(text: string): PolicyDocument {
  let doc = parsedCache.get(text);
  if (!doc) {
    // Documents were validated when created; one that no longer parses grants nothing.
    try {
      doc = parsePolicy(text);
    } catch {
      doc = { version: '1', statements: [] };
    }
    if (parsedCache.size >= 1000) parsedCache.clear();
    parsedCache.set(text, doc);
  }
  return doc;
}
