import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handlerFor, HANDLERS } from '../../src/api/handlers.js';
import { ERRORS, GATEWAY_ERRORS } from '../../src/spec/errors.js';
import { PRODUCTS } from '../../src/spec/index.js';
import type { ActionSpec, ParamSpec } from '../../src/spec/types.js';

/** Sanity checks on the declarative action tables (src/spec/*), against the seeds and docs/protocol.md §7. */
const actions = PRODUCTS.flatMap((p) => Object.entries(p.actions).map(([key, a]) => ({ product: p, key, a })));
const action = (name: string): ActionSpec => {
  const found = actions.find((x) => x.a.name === name);
  assert.ok(found, `no action ${name}`);
  return found.a;
};
const param = (actionName: string, name: string): ParamSpec => {
  const p = action(actionName).params[name];
  assert.ok(p, `${actionName} has no ${name}`);
  return p;
};

describe('product tables', () => {
  it('are CDN 2018-05-10 and VOD 2017-03-21', () => {
    assert.deepEqual(PRODUCTS.map((p) => [p.product, p.version]), [['cdn', '2018-05-10'], ['vod', '2017-03-21']]);
  });

  it('key every action by its name, and have a handler for each, and no stray handler', () => {
    for (const { key, a } of actions) {
      assert.equal(a.name, key);
      assert.equal(typeof handlerFor(a), 'function', `no handler for ${a.name}`);
    }
    assert.deepEqual(Object.keys(HANDLERS).sort(), [...new Set(actions.map((x) => x.a.name))].sort());
  });

  it('name RAM actions `<product>:<Action>`', () => {
    for (const { product, a } of actions) assert.equal(a.ramAction, `${product.product}:${a.name}`);
  });
});

describe('error codes in the tables', () => {
  it('exist in ERRORS (enum errors and throttling codes)', () => {
    for (const { a } of actions) {
      assert.ok(a.rateLimit.error in ERRORS, `${a.name}: ${a.rateLimit.error}`);
      for (const [name, p] of Object.entries(a.params)) {
        if (p.type === 'enum' && p.error) assert.ok(p.error in ERRORS, `${a.name}.${name}: ${p.error}`);
      }
    }
  });

  it("list what the action's own parameters and rules can answer, once each, and no gateway code", () => {
    for (const { a } of actions) {
      const listed = new Set<string>(a.errors);
      assert.equal(listed.size, a.errors.length, `${a.name} lists a code twice`);
      for (const code of a.errors) {
        assert.ok(code in ERRORS, `${a.name}: ${code}`);
        assert.ok(!GATEWAY_ERRORS.includes(code), `${a.name}: ${code} is a gateway code`);
      }
      const params = Object.values(a.params);
      if (params.some((p) => p.required)) assert.ok(listed.has('MissingParameter'), `${a.name}: MissingParameter`);
      if (params.some((p) => p.type !== 'enum' || !p.error)) assert.ok(listed.has('InvalidParameter'), `${a.name}: InvalidParameter`);
      for (const p of params) if (p.type === 'enum' && p.error) assert.ok(listed.has(p.error), `${a.name}: ${p.error}`);
      for (const r of a.rules ?? []) assert.ok(listed.has(r.error), `${a.name}: rule ${r.error}`);
    }
  });
});

describe('cross-field rules and limitations', () => {
  it('rules name only parameters of their action', () => {
    for (const { a } of actions) {
      for (const r of a.rules ?? []) {
        const names = r.kind === 'requires' ? [r.param, ...r.when] : r.kind === 'onlyWith' ? [r.param, r.other] : r.params;
        for (const n of names) assert.ok(n in a.params, `${a.name}: rule names ${n}`);
      }
    }
  });

  it('L2Preload, QueryHashkey and ResourceGroupId say what refreshd does with them', () => {
    for (const [actionName, name] of [['PushObjectCache', 'L2Preload'], ['PreloadVodObjectCaches', 'L2Preload'], ['PushObjectCache', 'QueryHashkey'], ['DescribeRefreshTasks', 'ResourceGroupId']]) {
      assert.ok((param(actionName, name).limitation ?? '').length > 20, `${actionName}.${name}`);
    }
  });
});

describe('rate limits (docs/protocol.md §7, seeds 001, 002, 004)', () => {
  const documented: Record<string, [number, string]> = {
    DescribeRefreshTasks: [5, 'TooManyRequests'],
    DescribeRefreshTaskById: [30, 'Throttling'],
    RefreshObjectCaches: [50, 'Throttling'],
    PushObjectCache: [50, 'Throttling'],
    RefreshVodObjectCaches: [50, 'Throttling'],
    PreloadVodObjectCaches: [50, 'Throttling'],
    DescribeRefreshQuota: [20, 'Throttling'],
    DescribeVodRefreshQuota: [20, 'Throttling'],
    // The 5.0.0 client model: 30/s for both; the tag purge documents none, so it has the submits' 50/s.
    DescribePreloadDetailById: [30, 'Throttling'],
    DescribeCdnUserQuota: [30, 'Throttling'],
    RefreshObjectCacheByCacheTag: [50, 'Throttling'],
  };
  for (const [name, [perSecond, error]] of Object.entries(documented)) {
    it(`${name}: ${perSecond}/s, then ${error}`, () => {
      assert.deepEqual(action(name).rateLimit, { perSecond, error });
    });
  }

  it('DescribeVodRefreshTasks answers Throttling (seed 002 error table)', () => {
    assert.equal(action('DescribeVodRefreshTasks').rateLimit.error, 'Throttling');
  });

  it('TooManyRequests is 429 and Throttling 503 (seeds 002, 004)', () => {
    assert.equal(ERRORS.TooManyRequests.status, 429);
    assert.equal(ERRORS.Throttling.status, 503);
  });
});

describe('describe paging', () => {
  for (const [name, max] of [['DescribeRefreshTasks', 100], ['DescribeVodRefreshTasks', 50]] as const) {
    it(`${name}: PageSize 1–${max}, default 20; PageNumber 1–100000, default 1`, () => {
      assert.deepEqual(param(name, 'PageSize'), { ...param(name, 'PageSize'), type: 'integer', min: 1, max, default: 20 });
      assert.deepEqual(param(name, 'PageNumber'), { ...param(name, 'PageNumber'), type: 'integer', min: 1, max: 100000, default: 1 });
    });
  }

  it('DescribeRefreshTasks is checked against the domain resource (seed 004)', () => {
    assert.equal(action('DescribeRefreshTasks').resource, 'domain');
  });
});

describe('list shapes', () => {
  const expected: Record<string, string> = {
    DescribeRefreshTasks: 'Tasks.CDNTask[]',
    DescribeRefreshTaskById: 'Tasks[]',
    DescribeVodRefreshTasks: 'Tasks.Task[]',
    WaitForTasks: 'Tasks[]',
  };
  it('are Tasks.CDNTask, bare Tasks and Tasks.Task, and the result table agrees', () => {
    for (const { a } of actions) {
      const listKeys = Object.keys(a.result).filter((k) => k.endsWith('[]'));
      const notRows: Record<string, string> = { DescribeRefreshTaskNodes: 'Items[]', DescribePreloadDetailById: 'UrlDetails[]', CancelRefreshTasks: 'Tasks[]' };
      if (a.name in notRows) {
        // Items with their nodes, tasks with their URLs, what a cancel did per task: not task rows.
        assert.equal(a.taskList, undefined);
        assert.deepEqual(listKeys, [notRows[a.name]]);
        continue;
      }
      if (!(a.name in expected)) {
        assert.equal(a.taskList, undefined, a.name);
        assert.deepEqual(listKeys, [], a.name);
        continue;
      }
      assert.deepEqual(listKeys, [expected[a.name]], a.name);
      const element = expected[a.name] === 'Tasks[]' ? null : expected[a.name].slice('Tasks.'.length, -2);
      // Seed 004 knows no Pending in DescribeRefreshTasks rows; seeds 001 (ById) and 002 (VOD) do.
      const unconfirmedAs = a.name === 'DescribeRefreshTasks' ? { unconfirmedAs: 'Refreshing' } : {};
      assert.deepEqual(a.taskList, { element, ...unconfirmedAs }, a.name);
    }
  });
});

describe('parameter specs', () => {
  it('have defaults inside their range and aliases that map to canonical values', () => {
    for (const { a } of actions) {
      for (const [name, p] of Object.entries(a.params)) {
        const where = `${a.name}.${name}`;
        assert.ok(p.doc.length > 0, `${where} has no doc`);
        assert.ok(!(p.required && p.default !== undefined), `${where} is required and has a default`);
        if (p.type === 'integer') {
          assert.ok(p.min <= p.max, where);
          if (p.default !== undefined) assert.ok(p.default >= p.min && p.default <= p.max, where);
        }
        if (p.type === 'enum') {
          if (p.default !== undefined) assert.ok(p.values.includes(p.default), where);
          for (const [from, to] of Object.entries(p.aliases ?? {})) {
            assert.equal(from, from.toLowerCase(), `${where}: aliases are matched lower-case`);
            assert.ok(p.values.includes(to), `${where}: alias ${from} → ${to}`);
          }
        }
      }
    }
  });
});
