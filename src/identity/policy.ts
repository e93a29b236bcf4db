/**
 * RAM-style policy documents: parsing, validation and matching.
 *
 *   {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cdn:Describe*",
 *                                   "Resource": "acs:cdn:*:1234567890123456:domain/example.com"}]}
 *
 * Action and Resource are a string or an array of strings; `*` matches any run of characters
 * and `?` one character. Actions match case-insensitively (as RAM does), resources exactly.
 * Condition, NotAction, NotResource and Principal are refused rather than ignored: ignoring a
 * condition would grant more than its author meant.
 */

export type Effect = 'Allow' | 'Deny';

export interface Statement {
  effect: Effect;
  actions: string[];
  resources: string[];
}

export interface PolicyDocument {
  version: '1';
  statements: Statement[];
}

export class PolicyError extends Error {}

/** Custom policy documents in RAM are limited to 6,144 characters. */
export const MAX_POLICY_CHARS = 6144;
const ACTION = /^(\*|[a-z0-9*?-]+:[A-Za-z0-9*?]+)$/i;
// eslint-disable-next-line no-control-regex
const RESOURCE = /^[^\u0000-\u001f\u007f\s]{1,512}$/;
const STATEMENT_KEYS = new Set(['Effect', 'Action', 'Resource', 'Sid']);

export function parsePolicy(text: string): PolicyDocument {
  if (text.length > MAX_POLICY_CHARS) throw new PolicyError(`a policy document is at most ${MAX_POLICY_CHARS} characters`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`the policy document is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(json)) throw new PolicyError('the policy document must be a JSON object');
  for (const key of Object.keys(json)) {
    if (key !== 'Version' && key !== 'Statement') throw new PolicyError(`unsupported top-level element "${key}"`);
  }
  if (json.Version !== '1') throw new PolicyError('Version must be "1"');
  if (!Array.isArray(json.Statement) || json.Statement.length === 0) throw new PolicyError('Statement must be a non-empty array');
  return { version: '1', statements: json.Statement.map((s, i) => parseStatement(s, i)) };
}

function parseStatement(s: unknown, index: number): Statement {
  const where = `Statement[${index}]`;
  if (!isObject(s)) throw new PolicyError(`${where} must be an object`);
  for (const key of Object.keys(s)) {
    if (!STATEMENT_KEYS.has(key)) throw new PolicyError(`${where}: "${key}" is not supported (only Effect, Action, Resource)`);
  }
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(`${where}: Effect must be "Allow" or "Deny"`);
  const actions = stringList(s.Action, `${where}.Action`);
  for (const a of actions) if (!ACTION.test(a)) throw new PolicyError(`${where}.Action: "${a}" is not <service>:<Action> (e.g. cdn:RefreshObjectCaches)`);
  const resources = stringList(s.Resource, `${where}.Resource`);
  for (const r of resources) if (!RESOURCE.test(r)) throw new PolicyError(`${where}.Resource: "${r}" is not a resource`);
  // Actions compare case-insensitively: kept lower-cased, and the action asked for is lowered too.
  return { effect: s.Effect, actions: actions.map((a) => a.toLowerCase()), resources };
}

function stringList(value: unknown, where: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) {
    throw new PolicyError(`${where} must be a non-empty string or array of non-empty strings`);
  }
  return list as string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Whole-string glob match: `*` any run (also empty), `?` one character, the rest literal.
 * Iterative with one backtrack point, so a long resource (DomainName is caller-controlled)
 * costs O(pattern × text) at worst, never a regex engine's exponential backtracking.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** `action` as the action table spells it (`cdn:RefreshObjectCaches`). */
export function statementApplies(s: Statement, action: string, resource: string): boolean {
  const lower = action.toLowerCase();
  return s.actions.some((a) => globMatch(a, lower)) && s.resources.some((r) => globMatch(r, resource));
}

export type Decision =
  | { decision: 'Allow' }
  | { decision: 'ExplicitDeny'; policy: string; resource: string }
  | { decision: 'ImplicitDeny'; resource: string };

/**
 * Evaluate named policies for one action on every resource the call touches. Each resource
 * needs an Allow and no Deny; a Deny anywhere wins over every Allow (ExplicitDeny); a resource
 * no statement allows is an ImplicitDeny.
 */
export function evaluate(policies: { name: string; doc: PolicyDocument }[], action: string, resources: string[]): Decision {
  let implicit: string | undefined;
  for (const resource of resources) {
    let allowed = false;
    for (const { name, doc } of policies) {
      for (const s of doc.statements) {
        if (!statementApplies(s, action, resource)) continue;
        if (s.effect === 'Deny') return { decision: 'ExplicitDeny', policy: name, resource };
        allowed = true;
      }
    }
    if (!allowed && implicit === undefined) implicit = resource;
  }
  return implicit === undefined ? { decision: 'Allow' } : { decision: 'ImplicitDeny', resource: implicit };
}
