import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ramResources } from '../../src/identity/authorize.js';
import { evaluate, globMatch, parsePolicy, PolicyError } from '../../src/identity/policy.js';
import { CDN } from '../../src/spec/cdn-2018-05-10.js';
import { VOD } from '../../src/spec/vod-2017-03-21.js';
import type { Account } from '../../src/store/port.js';

const doc = (...statements: object[]) => JSON.stringify({ Version: '1', Statement: statements });
const named = (name: string, ...statements: object[]) => ({ name, doc: parsePolicy(doc(...statements)) });

describe('policy documents', () => {
  it('accept Action and Resource as a string or an array', () => {
    const p = parsePolicy(doc({ Effect: 'Allow', Action: 'cdn:Describe*', Resource: '*' }, { Effect: 'Deny', Action: ['vod:*', 'cdn:PushObjectCache'], Resource: ['acs:cdn:*:1:domain/a.com', '*'] }));
    assert.deepEqual(p.statements.map((s) => [s.effect, s.actions, s.resources]), [
      ['Allow', ['cdn:describe*'], ['*']],
      ['Deny', ['vod:*', 'cdn:pushobjectcache'], ['acs:cdn:*:1:domain/a.com', '*']],
    ]);
  });

  const refused: [string, string, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /JSON object/],
    ['no Version', JSON.stringify({ Statement: [] }), /Version/],
    ['Version 2', JSON.stringify({ Version: '2', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }), /Version/],
    ['an empty Statement', doc(), /non-empty array/],
    ['a Statement object', JSON.stringify({ Version: '1', Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }), /non-empty array/],
    ['Effect allow (lower case)', doc({ Effect: 'allow', Action: '*', Resource: '*' }), /Effect/],
    ['no Action', doc({ Effect: 'Allow', Resource: '*' }), /Action/],
    ['an empty Action list', doc({ Effect: 'Allow', Action: [], Resource: '*' }), /Action/],
    ['an Action without a service', doc({ Effect: 'Allow', Action: 'RefreshObjectCaches', Resource: '*' }), /<service>:<Action>/],
    ['a number Resource', doc({ Effect: 'Allow', Action: '*', Resource: 5 }), /Resource/],
    ['a Condition (refused, not ignored)', doc({ Effect: 'Allow', Action: '*', Resource: '*', Condition: {} }), /Condition/],
    ['NotAction', doc({ Effect: 'Deny', NotAction: 'cdn:*', Resource: '*' }), /NotAction/],
    ['an unknown top-level element', JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }], Id: 'x' }), /Id/],
    ['a document over 6,144 characters', doc({ Effect: 'Allow', Action: '*', Resource: Array(700).fill('acs:cdn:*:1:x').join('') }), /6144/],
  ];
  for (const [what, text, message] of refused) {
    it(`refuse ${what}`, () => assert.throws(() => parsePolicy(text), (e: unknown) => e instanceof PolicyError && message.test(e.message)));
  }
});

describe('wildcards', () => {
  const cases: [string, string, boolean][] = [
    ['*', '', true], ['*', 'anything:at/all', true], ['cdn:*', 'cdn:refreshobjectcaches', true], ['cdn:*', 'vod:x', false],
    ['cdn:describe*', 'cdn:describerefreshtasks', true], ['cdn:describe*', 'cdn:refreshobjectcaches', false],
    ['*:describe*quota', 'vod:describevodrefreshquota', true], ['a?c', 'abc', true], ['a?c', 'ac', false],
    ['acs:cdn:*:1:domain/*.example.com', 'acs:cdn:*:1:domain/img.example.com', true],
    ['acs:cdn:*:1:domain/*.example.com', 'acs:cdn:*:1:domain/example.com', false],
    ['acs:cdn:*:1:domain/*', 'acs:cdn:*:2:domain/a.com', false],
    ['a*b*c*d', 'aXbYcZd', true], ['a*b*c*d', 'aXbYcZ', false], ['**', 'x', true],
  ];
  for (const [pattern, text, want] of cases) it(`${pattern} ${want ? 'matches' : 'does not match'} "${text}"`, () => assert.equal(globMatch(pattern, text), want));

  it('stay linear on a long caller-controlled resource', () => {
    const started = performance.now();
    assert.equal(globMatch('a*a*a*a*a*a*a*a*a*b', 'a'.repeat(20_000)), false);
    assert.ok(performance.now() - started < 2000);
  });
});

describe('evaluation', () => {
  const R = 'acs:cdn:*:1:domain/a.com';
  it('is an implicit deny with no policy, or no matching statement', () => {
    assert.deepEqual(evaluate([], 'cdn:RefreshObjectCaches', ['*']), { decision: 'ImplicitDeny', resource: '*' });
    assert.equal(evaluate([named('p', { Effect: 'Allow', Action: 'vod:*', Resource: '*' })], 'cdn:RefreshObjectCaches', ['*']).decision, 'ImplicitDeny');
  });

  it('matches actions case-insensitively, resources exactly', () => {
    assert.equal(evaluate([named('p', { Effect: 'Allow', Action: 'CDN:refreshOBJECTcaches', Resource: '*' })], 'cdn:RefreshObjectCaches', ['*']).decision, 'Allow');
    assert.equal(evaluate([named('p', { Effect: 'Allow', Action: '*', Resource: R.toUpperCase() })], 'cdn:DescribeRefreshTasks', [R]).decision, 'ImplicitDeny');
  });

  it('lets a Deny win over any Allow, in any policy, in any order', () => {
    const allow = named('allow-all', { Effect: 'Allow', Action: '*', Resource: '*' });
    const deny = named('no-push', { Effect: 'Deny', Action: 'cdn:Push*', Resource: '*' });
    for (const order of [[allow, deny], [deny, allow]]) {
      assert.deepEqual(evaluate(order, 'cdn:PushObjectCache', ['*']), { decision: 'ExplicitDeny', policy: 'no-push', resource: '*' });
      assert.equal(evaluate(order, 'cdn:RefreshObjectCaches', ['*']).decision, 'Allow');
    }
  });

  it('needs every resource allowed, and no resource denied', () => {
    const p = [named('p', { Effect: 'Allow', Action: 'cdn:DescribeRefreshTasks', Resource: ['acs:cdn:*:1:domain/a.com', 'acs:cdn:*:1:domain/b.com'] }, { Effect: 'Deny', Action: '*', Resource: 'acs:cdn:*:1:domain/secret.com' })];
    assert.equal(evaluate(p, 'cdn:DescribeRefreshTasks', ['acs:cdn:*:1:domain/a.com', 'acs:cdn:*:1:domain/b.com']).decision, 'Allow');
    assert.deepEqual(evaluate(p, 'cdn:DescribeRefreshTasks', ['acs:cdn:*:1:domain/a.com', 'acs:cdn:*:1:domain/c.com']), { decision: 'ImplicitDeny', resource: 'acs:cdn:*:1:domain/c.com' });
    assert.equal(evaluate(p, 'cdn:DescribeRefreshTasks', ['acs:cdn:*:1:domain/c.com', 'acs:cdn:*:1:domain/secret.com']).decision, 'ExplicitDeny');
  });
});

describe('RAM resources of a call', () => {
  const account = { id: 7, uid: '1234567890123456' } as Account;
  const raw = (o: Record<string, string>) => new Map(Object.entries(o));
  it('DescribeRefreshTasks: one resource per DomainName, lower-cased, or domain/* without one', () => {
    const a = CDN.actions.DescribeRefreshTasks;
    assert.deepEqual(ramResources(CDN, a, account, raw({})), ['acs:cdn:*:1234567890123456:domain/*']);
    assert.deepEqual(ramResources(CDN, a, account, raw({ DomainName: 'A.com, b.com,,a.com' })), [
      'acs:cdn:*:1234567890123456:domain/a.com', 'acs:cdn:*:1234567890123456:domain/b.com',
    ]);
  });
  it('every other action of both products: *', () => {
    for (const p of [CDN, VOD]) {
      for (const a of Object.values(p.actions)) if (a.resource !== 'domain') assert.deepEqual(ramResources(p, a, account, raw({ DomainName: 'a.com' })), ['*'], a.name);
    }
  });
});
