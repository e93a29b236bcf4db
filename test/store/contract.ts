import { dispatchPending } from './harness.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewTask, SubmitBatch, Store } from '../../src/store/port.js';
import { countContract } from './count-contract.js';
import { fleetContract } from './fleet-contract.js';
import { progressContract } from './progress-contract.js';
import { phaseContract } from './phase-contract.js';
import { queueContract } from './queue-contract.js';
import { verifyUrlContract } from './verify-url-contract.js';
import { webhookContract } from './webhook-contract.js';

/**
 * The Store contract: what every adapter must do, run against each of them (sqlite.test.ts and
 * postgres.test.ts), one describe block per role plus the cross-role suites (TotalCount, progress,
 * queue, webhooks). `open` gives a fresh, empty, migrated store.
 */
export function storeContract(name: string, open: () => Promise<Store>, expected: { listenForWork: boolean }): void {
  webhookContract(name, open);
  countContract(name, open);
  progressContract(name, open);
  queueContract(name, open);
  fleetContract(name, open);
  verifyUrlContract(name, open);
  phaseContract(name, open);
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let a: number;
    let b: number;
    const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);

    before(async () => {
      store = await open();
      a = (await store.identity.createAccount({ uid: '1000000000000001', name: 'a', createdAt: T0 })).id;
      b = (await store.identity.createAccount({ uid: '1000000000000002', name: 'b', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'a.example.com', accountId: a, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: T0 });
      await store.domains.addDomain({ name: 'b.example.com', accountId: b, product: 'cdn', origin: 'http://o', online: true, nodeGroup: 'default', createdAt: T0 });
    });
    after(() => store.close());

    const task = (domain: string, paths: string[], objectType: NewTask['objectType'] = 'file'): NewTask => ({
      domain, objectType, force: false, area: null, l2Preload: false, withHeader: null, paths,
    });
    const batch = (accountId: number, createdAt: number, tasks: NewTask[], extra: Partial<SubmitBatch> = {}): SubmitBatch => ({
      accountId, product: 'cdn', createdAt, consume: [], tasks, ...extra,
    });
    const all = (accountId: number, extra: object = {}) =>
      store.tasks.queryItems({ accountId, product: 'cdn', from: 0, to: Number.MAX_SAFE_INTEGER, offset: 0, limit: 100, ...extra });

    describe('identity', () => {
      it('accounts and access keys', async () => {
        const acct = await store.identity.getAccount(a);
        assert.equal(acct?.uid, '1000000000000001');
        assert.deepEqual(acct?.services, { cdn: 'active', vod: 'active' });
        assert.equal((await store.identity.findAccountByName('b'))?.id, b);
        assert.equal(await store.identity.findAccountByName('nobody'), undefined);
        assert.deepEqual((await store.identity.listAccounts()).map((x) => x.name), ['a', 'b']);
        await store.identity.setServiceState(a, 'vod', 'suspended');
        assert.equal((await store.identity.getAccount(a))?.services.vod, 'suspended');
        await store.identity.createAccessKey({ accessKeyId: 'LTAIa', secretCipher: 'gcm1:sa', accountId: a, userName: null, active: true, createdAt: T0 });
        await store.identity.createAccessKey({ accessKeyId: 'LTAIa2', secretCipher: 'gcm1:sa2', accountId: a, userName: 'bob', active: false, createdAt: T0 + 1 });
        await store.identity.createAccessKey({ accessKeyId: 'LTAIb', secretCipher: 'gcm1:sb', accountId: b, userName: null, active: true, createdAt: T0 + 2 });
        assert.deepEqual(await store.identity.findAccessKey('LTAIa2'), { accessKeyId: 'LTAIa2', secretCipher: 'gcm1:sa2', accountId: a, userName: 'bob', active: false, createdAt: T0 + 1 });
        assert.deepEqual((await store.identity.listAccessKeys(a)).map((k) => k.accessKeyId), ['LTAIa', 'LTAIa2']);
        assert.deepEqual((await store.identity.listAccessKeys()).map((k) => k.accessKeyId), ['LTAIa', 'LTAIa2', 'LTAIb'], 'every key of the store');
        assert.equal(await store.identity.findAccessKey('nope'), undefined);
      });

      it('access keys are enabled, disabled, resealed and deleted one by one', async () => {
        assert.equal(await store.identity.setAccessKeyActive('LTAIa2', true), true);
        assert.equal((await store.identity.findAccessKey('LTAIa2'))?.active, true);
        assert.equal(await store.identity.setAccessKeyActive('LTAIa2', false), true);
        assert.equal((await store.identity.findAccessKey('LTAIa2'))?.active, false);
        assert.equal(await store.identity.setAccessKeyActive('nope', false), false);
        assert.equal(await store.identity.replaceSecretCipher('LTAIa', 'gcm1:other', 'gcm1:new'), false, 'only while it still is the expected value');
        assert.equal(await store.identity.replaceSecretCipher('LTAIa', 'gcm1:sa', 'gcm1:new'), true);
        assert.equal((await store.identity.findAccessKey('LTAIa'))?.secretCipher, 'gcm1:new');
        await store.identity.createAccessKey({ accessKeyId: 'LTAIgone', secretCipher: 'gcm1:x', accountId: a, userName: null, active: true, createdAt: T0 });
        assert.equal(await store.identity.deleteAccessKey('LTAIgone'), true);
        assert.equal(await store.identity.deleteAccessKey('LTAIgone'), false);
        assert.equal(await store.identity.findAccessKey('LTAIgone'), undefined);
      });

      it('RAM users belong to one account; removing one takes its keys and attachments', async () => {
        const user = (accountId: number, name: string) => ({ accountId, name, displayName: `${name}!`, createdAt: T0 });
        assert.equal(await store.identity.createUser(user(a, 'bob')), true);
        assert.equal(await store.identity.createUser(user(a, 'bob')), false, 'names are unique in an account');
        assert.equal(await store.identity.createUser(user(b, 'bob')), true, 'another account may use the name');
        assert.equal(await store.identity.createUser(user(a, 'carol')), true);
        assert.deepEqual(await store.identity.findUser(a, 'bob'), user(a, 'bob'));
        assert.equal(await store.identity.findUser(a, 'dave'), undefined);
        assert.deepEqual((await store.identity.listUsers(a)).map((u) => u.name), ['bob', 'carol']);
        assert.deepEqual((await store.identity.listUsers(b)).map((u) => u.name), ['bob']);
        await store.identity.createAccessKey({ accessKeyId: 'LTAIcarol', secretCipher: 'gcm1:c', accountId: a, userName: 'carol', active: true, createdAt: T0 });
        await store.identity.createAccessKey({ accessKeyId: 'LTAIbbob', secretCipher: 'gcm1:b', accountId: b, userName: 'bob', active: true, createdAt: T0 });
        await store.identity.createPolicy({ accountId: a, name: 'p-carol', description: '', document: '{}', createdAt: T0 });
        assert.equal(await store.identity.attachPolicy(a, 'carol', 'p-carol', T0), true);
        assert.equal(await store.identity.removeUser(a, 'carol'), true);
        assert.equal(await store.identity.removeUser(a, 'carol'), false);
        assert.equal(await store.identity.findAccessKey('LTAIcarol'), undefined, 'its keys are gone');
        assert.deepEqual(await store.identity.listAttachments(a), [], 'its attachments are gone');
        assert.ok(await store.identity.findAccessKey('LTAIbbob'), 'the other account’s user of the same name keeps its key');
        await store.identity.deletePolicy(a, 'p-carol');
      });

      it('policies: per account, attached to users, deleted with their attachments', async () => {
        const doc = (action: string) => JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });
        const policy = (accountId: number, name: string, action = 'cdn:*') => ({ accountId, name, description: `about ${name}`, document: doc(action), createdAt: T0 });
        assert.equal(await store.identity.createPolicy(policy(a, 'readers', 'cdn:Describe*')), true);
        assert.equal(await store.identity.createPolicy(policy(a, 'readers')), false, 'names are unique in an account');
        assert.equal(await store.identity.createPolicy(policy(a, 'admins')), true);
        assert.equal(await store.identity.createPolicy(policy(b, 'readers', 'vod:*')), true, 'another account may use the name');
        assert.deepEqual(await store.identity.findPolicy(a, 'readers'), policy(a, 'readers', 'cdn:Describe*'));
        assert.equal(await store.identity.findPolicy(a, 'nope'), undefined);
        assert.deepEqual((await store.identity.listPolicies(a)).map((p) => p.name), ['admins', 'readers']);
        assert.equal(await store.identity.attachPolicy(a, 'bob', 'readers', T0), true);
        assert.equal(await store.identity.attachPolicy(a, 'bob', 'readers', T0), false, 'attached once');
        assert.equal(await store.identity.attachPolicy(a, 'bob', 'admins', T0), true);
        assert.equal(await store.identity.attachPolicy(b, 'bob', 'readers', T0), true);
        assert.deepEqual((await store.identity.policiesOfUser(a, 'bob')).map((p) => [p.name, JSON.parse(p.document).Statement[0].Action]), [
          ['admins', 'cdn:*'], ['readers', 'cdn:Describe*'],
        ]);
        assert.deepEqual((await store.identity.policiesOfUser(b, 'bob')).map((p) => JSON.parse(p.document).Statement[0].Action), ['vod:*'], 'only its own account’s policy');
        assert.deepEqual(await store.identity.listAttachments(a), [{ userName: 'bob', policyName: 'admins' }, { userName: 'bob', policyName: 'readers' }]);
        assert.equal(await store.identity.detachPolicy(a, 'bob', 'admins'), true);
        assert.equal(await store.identity.detachPolicy(a, 'bob', 'admins'), false);
        assert.equal(await store.identity.deletePolicy(a, 'readers'), true);
        assert.equal(await store.identity.deletePolicy(a, 'readers'), false);
        assert.deepEqual(await store.identity.policiesOfUser(a, 'bob'), []);
        assert.deepEqual(await store.identity.listAttachments(a), []);
        assert.equal((await store.identity.policiesOfUser(b, 'bob')).length, 1);
      });

      it('metadata is written once and read back', async () => {
        assert.equal(await store.identity.ensureMeta('master_key_check', 'abc'), 'abc');
        assert.equal(await store.identity.ensureMeta('master_key_check', 'xyz'), 'abc', 'the first value stays');
      });
    });

    describe('audit', () => {
      it('audit records: appended in batches, queried newest first with filters, swept by age', async () => {
        const rec = (at: number, accountId: number | null, action: string | null, code: string | null = null) => ({
          at, requestId: `R${at}`, accountId, userName: accountId === a ? 'bob' : null, accessKeyId: accountId === null ? 'LTAInobody' : 'LTAIa',
          sourceIp: '127.0.0.1', product: action === null ? null : ('cdn' as const), action, params: JSON.stringify({ ObjectPath: `p${at}` }),
          status: code === null ? 200 : 400, code,
        });
        await store.audit.appendAudit([]);
        await store.audit.appendAudit([rec(T0 + 1, a, 'RefreshObjectCaches'), rec(T0 + 2, b, 'DescribeRefreshQuota'), rec(T0 + 3, null, null, 'InvalidAccessKeyId.NotFound')]);
        await store.audit.appendAudit([rec(T0 + 4, a, 'DescribeRefreshQuota', 'Forbidden.RAM')]);
        const all = await store.audit.queryAudit({ limit: 100 });
        assert.deepEqual(all.map((e) => e.at), [T0 + 4, T0 + 3, T0 + 2, T0 + 1]);
        const { id, ...first } = all[3];
        assert.equal(typeof id, 'number');
        assert.deepEqual(first, rec(T0 + 1, a, 'RefreshObjectCaches'));
        assert.deepEqual(all[1].accountId, null);
        assert.deepEqual((await store.audit.queryAudit({ accountId: a, limit: 100 })).map((e) => e.at), [T0 + 4, T0 + 1]);
        assert.deepEqual((await store.audit.queryAudit({ action: 'DescribeRefreshQuota', limit: 100 })).map((e) => e.at), [T0 + 4, T0 + 2]);
        assert.deepEqual((await store.audit.queryAudit({ since: T0 + 2, until: T0 + 4, limit: 100 })).map((e) => e.at), [T0 + 3, T0 + 2]);
        assert.deepEqual((await store.audit.queryAudit({ limit: 1 })).map((e) => e.code), ['Forbidden.RAM']);
        const kept = await store.ops.sweep(0, T0);
        assert.equal(kept.audit, 0, 'no auditBefore: the audit log is left alone');
        const swept = await store.ops.sweep(0, T0, T0 + 3);
        assert.equal(swept.audit, 2);
        assert.deepEqual((await store.audit.queryAudit({ limit: 100 })).map((e) => e.at), [T0 + 4, T0 + 3]);
      });
    });

    describe('guards', () => {
      it('a nonce is accepted once per key until it expires', async () => {
        const now = Date.now();
        assert.equal(await store.guards.useNonce('LTAIa', 'n1', now + 60_000), true);
        assert.equal(await store.guards.useNonce('LTAIa', 'n1', now + 60_000), false);
        assert.equal(await store.guards.useNonce('LTAIb', 'n1', now + 60_000), true, 'nonces are per key');
        assert.equal(await store.guards.useNonce('LTAIa', 'n-old', now - 1), true);
        assert.equal(await store.guards.useNonce('LTAIa', 'n-old', now + 60_000), true, 'an expired nonce may be reused');
      });

      it('rate windows allow perSecond calls per key per second', async () => {
        const t = 1_800_000_000_250;
        assert.deepEqual([await store.guards.takeRate('k', 2, t), await store.guards.takeRate('k', 2, t + 1)], [0, 0]);
        assert.equal(await store.guards.takeRate('k', 2, t + 2), 748, 'refused until the next second');
        assert.equal(await store.guards.takeRate('other', 2, t + 3), 0, 'keys are independent');
        assert.equal(await store.guards.takeRate('k', 2, t + 750), 0, 'a new second, a new window');
      });
    });

    describe('domains', () => {
      it('domains', async () => {
        assert.equal((await store.domains.findDomain('b.example.com'))?.origin, 'http://o');
        assert.deepEqual((await store.domains.listDomains(a)).map((d) => d.name), ['a.example.com']);
        assert.equal((await store.domains.listDomains()).length, 2);
        assert.equal(await store.domains.setDomainOnline('a.example.com', false), true);
        assert.equal((await store.domains.findDomain('a.example.com'))?.online, false);
        assert.equal(await store.domains.setDomainOnline('none.example.com', false), false);
        await store.domains.setDomainOnline('a.example.com', true);
      });
    });

    describe('tasks', () => {
      it('submit writes one task per domain with increasing ids and pending items', async () => {
        const out = await store.tasks.submit(batch(a, T0, [task('a.example.com', ['a.example.com/1', 'a.example.com/2']), task('a.example.com', ['a.example.com/d/'], 'directory')]));
        assert.ok(out.ok);
        assert.equal(out.taskIds.length, 2);
        assert.ok(BigInt(out.taskIds[1]) > BigInt(out.taskIds[0]));
        const { total, rows } = await all(a);
        assert.equal(total, 3);
        assert.deepEqual(rows.map((r) => [r.objectPath, r.objectType, r.counts.total]), [
          ['a.example.com/d/', 'directory', null],
          ['a.example.com/2', 'file', null],
          ['a.example.com/1', 'file', null],
        ]);
      });

      it('a consumption past its limit writes nothing at all', async () => {
        const bucket = { bucket: 'day:test:url', amount: 2, limit: 3, expiresAt: T0 + 86_400_000 };
        assert.ok((await store.tasks.submit(batch(b, T0, [task('b.example.com', ['b.example.com/x', 'b.example.com/y'])], { consume: [bucket] }))).ok);
        const refused = await store.tasks.submit(batch(b, T0, [task('b.example.com', ['b.example.com/z', 'b.example.com/w'])], { consume: [{ ...bucket, bucket: 'other', limit: 10 }, bucket] }));
        assert.deepEqual(refused, { ok: false, exceeded: 'day:test:url' });
        assert.deepEqual(await store.tasks.usage(['day:test:url', 'other', 'never']), { 'day:test:url': 2, other: 0, never: 0 });
        assert.equal((await all(b)).total, 2);
      });

      it('concurrent submits against one limit never overshoot it', async () => {
        const bucket = { bucket: 'race', amount: 1, limit: 7, expiresAt: T0 + 86_400_000 };
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.tasks.submit(batch(b, T0 + 1, [task('b.example.com', [`b.example.com/race${i}`])], { consume: [bucket] }))));
        assert.equal(results.filter((r) => r.ok).length, 7);
        assert.equal((await store.tasks.usage(['race'])).race, 7);
      });

      it('the preload queue limit counts unfinished preload rows', async () => {
        const pre = (p: string) => store.tasks.submit(batch(b, T0 + 2, [task('b.example.com', [p], 'preload')], { preloadQueueLimit: 2 }));
        assert.ok((await pre('b.example.com/p1')).ok);
        assert.ok((await pre('b.example.com/p2')).ok);
        assert.deepEqual(await pre('b.example.com/p3'), { ok: false, queueFull: true });
      });

      it('queryItems filters, orders newest first, pages and counts', async () => {
        await store.tasks.submit(batch(a, T0 + 10_000, [task('a.example.com', ['http://a.example.com/late'])]));
        const first = await all(a, { limit: 2 });
        assert.equal(first.total, 4);
        assert.deepEqual(first.rows.map((r) => r.objectPath), ['http://a.example.com/late', 'a.example.com/d/']);
        const second = await all(a, { limit: 2, offset: 2 });
        assert.deepEqual(second.rows.map((r) => r.objectPath), ['a.example.com/2', 'a.example.com/1']);
        const last = await all(a, { limit: 2, offset: 3 });
        assert.deepEqual(last.rows.map((r) => r.objectPath), ['a.example.com/1'], 'a page past the middle, read from the other end');
        assert.deepEqual((await all(a, { limit: 3, offset: 1 })).rows.map((r) => r.objectPath), ['a.example.com/d/', 'a.example.com/2', 'a.example.com/1']);
        assert.deepEqual((await all(a, { offset: 10 })).rows, []);
        assert.equal((await all(a, { objectType: 'directory' })).total, 1);
        assert.equal((await all(a, { objectType: 'file', status: 'Pending' })).total, 3);
        assert.equal((await all(a, { status: 'Complete' })).total, 0);
        assert.equal((await all(a, { objectPath: 'a.example.com/2' })).rows[0].objectPath, 'a.example.com/2');
        assert.equal((await all(a, { objectPath: 'a.example.com/3' })).total, 0);
        assert.equal((await all(a, { from: T0 + 5_000 })).total, 1, 'time window');
        assert.equal((await all(a, { domains: ['b.example.com'] })).total, 0, 'another account’s domain shows nothing');
        const late = (await all(a, { limit: 1 })).rows[0];
        assert.equal((await all(a, { taskId: late.taskId })).total, 1);
        assert.equal((await all(b, { taskId: late.taskId })).total, 0, 'another account cannot see the task');
      });

      it('itemsOfTasks returns only the account’s rows inside the window', async () => {
        const late = (await all(a, { limit: 1 })).rows[0];
        assert.equal((await store.tasks.itemsOfTasks(a, 'cdn', [late.taskId, '99999999999'], 0)).length, 1);
        assert.equal((await store.tasks.itemsOfTasks(b, 'cdn', [late.taskId], 0)).length, 0);
        assert.equal((await store.tasks.itemsOfTasks(a, 'vod', [late.taskId], 0)).length, 0);
        assert.equal((await store.tasks.itemsOfTasks(a, 'cdn', [late.taskId], T0 + 20_000)).length, 0);
      });
    });

    describe('queue', () => {
      it('dispatch gives each pending item one attempt per enabled node of its group and Area', async () => {
        const dom = await store.fleet.addNode({ name: 'n-dom', driver: 'simulated', address: 's/1', group: 'g', area: 'domestic', enabled: true, options: { k: 1 }, createdAt: T0 });
        await store.fleet.addNode({ name: 'n-ovs', driver: 'simulated', address: 's/2', group: 'g', area: 'overseas', enabled: true, options: {}, createdAt: T0 });
        await store.fleet.addNode({ name: 'n-off', driver: 'simulated', address: 's/3', group: 'g', area: 'domestic', enabled: false, options: {}, createdAt: T0 });
        assert.deepEqual((await store.fleet.listNodes()).map((n) => [n.name, n.enabled]), [['n-dom', true], ['n-ovs', true], ['n-off', false]]);
        assert.deepEqual(dom.options, { k: 1 });
        await store.domains.addDomain({ name: 'q.example.com', accountId: a, product: 'cdn', origin: 'http://origin', online: true, nodeGroup: 'g', createdAt: T0 });
        await dispatchPending(store, T0, 1000); // earlier items (group default, no nodes) fail at once
        const refresh = await store.tasks.submit(batch(a, T0 + 50, [task('q.example.com', ['http://q.example.com/r'])]));
        const preload = await store.tasks.submit(batch(a, T0 + 50, [{ ...task('q.example.com', ['q.example.com/p'], 'preload'), area: 'overseas' }]));
        assert.ok(refresh.ok && preload.ok);
        assert.equal(await dispatchPending(store, T0 + 60, 1000), 2);
        assert.equal(await dispatchPending(store, T0 + 60, 1000), 0, 'dispatch happens once');
        const [r] = (await store.tasks.itemsOfTasks(a, 'cdn', refresh.taskIds, 0));
        const [p] = (await store.tasks.itemsOfTasks(a, 'cdn', preload.taskIds, 0));
        assert.deepEqual(r.counts, { total: 2, applied: 0, failed: 0 });
        assert.deepEqual(p.counts, { total: 1, applied: 0, failed: 0 }, 'Area overseas: one node');
        const nodes = await store.tasks.attemptsOfTasks(a, 'cdn', [...refresh.taskIds, ...preload.taskIds], 0);
        assert.deepEqual(nodes.map((n) => [n.objectPath, n.node, n.state]), [
          ['http://q.example.com/r', 'n-dom', 'pending'], ['http://q.example.com/r', 'n-ovs', 'pending'], ['q.example.com/p', 'n-ovs', 'pending'],
        ]);
      });

      it('claims lease due attempts once; outcomes count only under the current lease', async () => {
        const claimed = await store.queue.claimAttempts('w1', T0 + 100, 1000, 100);
        assert.equal(claimed.length, 3);
        const job = claimed.find((c) => c.objectPath === 'q.example.com/p')!;
        assert.deepEqual([job.objectType, job.origin, job.node.name, job.node.driver, job.attempts], ['preload', 'http://origin', 'n-ovs', 'simulated', 0]);
        assert.equal((await store.queue.claimAttempts('w2', T0 + 200, 1000, 100)).length, 0, 'leased attempts are not claimed twice');
        // w1's lease (one token for its whole claim) runs out; w2 takes all three over.
        const [r1, r2] = claimed.filter((c) => c !== job);
        assert.equal((await store.queue.claimAttempts('w2', T0 + 1200, 1000, 100)).length, 0, 'leased attempts wait for the reaper');
        assert.equal(await store.queue.reapLeases(T0 + 1200), 3, 'the reaper frees expired leases');
        const taken = await store.queue.claimAttempts('w2', T0 + 1200, 1000, 100);
        assert.equal(taken.length, 3, 'freed attempts are claimable');
        await store.queue.recordOutcomes(T0 + 1300, [{ itemId: r1.itemId, nodeId: r1.nodeId, lease: r1.lease, state: 'applied' }]);
        const [row] = await store.tasks.itemsOfTasks(a, 'cdn', [r1.taskId], 0);
        assert.equal(row.counts.applied, 0, 'the stale lease’s outcome was ignored');
        await store.queue.renewLeases([taken[0].lease], T0 + 9000);
        assert.equal((await store.queue.claimAttempts('w9', T0 + 3000, 1000, 100)).length, 0, 'a renewed lease holds');
        const t1 = taken.find((c) => c.nodeId === r1.nodeId && c.itemId === r1.itemId)!;
        const t2 = taken.find((c) => c.nodeId === r2.nodeId && c.itemId === r2.itemId)!;
        const tj = taken.find((c) => c.itemId === job.itemId)!;
        await store.queue.recordOutcomes(T0 + 3400, [
          { itemId: t1.itemId, nodeId: t1.nodeId, lease: t1.lease, state: 'applied' },
          { itemId: t2.itemId, nodeId: t2.nodeId, lease: t2.lease, state: 'retry', error: 'ECONNREFUSED', nextRunAt: T0 + 5000 },
          { itemId: tj.itemId, nodeId: tj.nodeId, lease: tj.lease, state: 'failed', error: 'origin 503', description: 'Origin Return StatusCode 5XX' },
        ]);
        const [after] = await store.tasks.itemsOfTasks(a, 'cdn', [r1.taskId], 0);
        assert.deepEqual(after.counts, { total: 2, applied: 1, failed: 0 });
        const [pre] = await store.tasks.itemsOfTasks(a, 'cdn', [job.taskId], 0);
        assert.deepEqual([pre.counts.failed, pre.description], [1, 'Origin Return StatusCode 5XX']);
        assert.equal((await all(a, { status: 'Failed', objectType: 'preload' })).total >= 1, true, 'status column follows the counts');
        assert.equal((await store.queue.claimAttempts('w3', T0 + 4000, 1000, 100)).length, 0, 'a retry waits for its time');
        const again = await store.queue.claimAttempts('w3', T0 + 5000, 1000, 100);
        assert.deepEqual(again.map((c) => [c.nodeId, c.attempts]), [[r2.nodeId, 1]]);
        await store.queue.recordOutcomes(T0 + 5100, [{ itemId: again[0].itemId, nodeId: again[0].nodeId, lease: again[0].lease, state: 'applied' }]);
        assert.equal((await all(a, { taskId: r1.taskId, status: 'Complete' })).total, 1);
      });
    });

    describe('fleet', () => {
      it('removing a node takes its unfinished attempts out of scope', async () => {
        const out = await store.tasks.submit(batch(a, T0 + 6000, [task('q.example.com', ['http://q.example.com/s'])]));
        assert.ok(out.ok);
        await dispatchPending(store, T0 + 6000, 100);
        const claimed = await store.queue.claimAttempts('w4', T0 + 6000, 1000, 100);
        const dom = claimed.find((c) => c.node.name === 'n-dom' && c.taskId === out.taskIds[0])!;
        await store.queue.recordOutcomes(T0 + 6100, [{ itemId: dom.itemId, nodeId: dom.nodeId, lease: dom.lease, state: 'applied' }]);
        assert.equal(await store.fleet.removeNode('n-ovs'), true);
        assert.equal(await store.fleet.removeNode('n-ovs'), false);
        const [row] = await store.tasks.itemsOfTasks(a, 'cdn', out.taskIds, 0);
        assert.deepEqual(row.counts, { total: 1, applied: 1, failed: 0 });
        assert.equal((await all(a, { taskId: out.taskIds[0], status: 'Complete' })).total, 1);
      });
    });

    describe('ops', () => {
      it('reports its health, queue depth and usage totals', async () => {
        const h = await store.ops.health();
        assert.ok(h.expectedVersion > 0);
        assert.equal(h.schemaVersion, h.expectedVersion);
        await store.tasks.submit(batch(b, T0 + 7000, [task('b.example.com', ['b.example.com/undispatched'])], {
          consume: [{ bucket: 'day:2026-11-20:9:cdn:url', amount: 3, limit: 100, expiresAt: T0 + 86_400_000 }, { bucket: 'day:2026-11-20:8:cdn:url', amount: 2, limit: 100, expiresAt: T0 + 86_400_000 }],
        }));
        const q = await store.ops.queueStats();
        assert.ok(q.undispatched >= 1, JSON.stringify(q));
        assert.equal(typeof q.pending, 'number');
        assert.equal(typeof q.leased, 'number');
        const totals = await store.ops.usageTotals('2026-11-20');
        assert.deepEqual(totals.find((t) => t.product === 'cdn' && t.kind === 'url'), { product: 'cdn', kind: 'url', used: 5 });
        assert.deepEqual(await store.ops.usageTotals('2026-11-21'), []);
      });

      it('sweep deletes old rows and expired counters; task ids are never reused', async () => {
        const before = (await all(a, { limit: 1 })).rows[0].taskId;
        const { items } = await store.ops.sweep(Number.MAX_SAFE_INTEGER, T0 + 2 * 86_400_000);
        assert.ok(items >= 4);
        assert.equal((await all(a)).total, 0);
        assert.deepEqual(await store.tasks.usage(['race']), { race: 0 });
        const out = await store.tasks.submit(batch(a, T0 + 3 * 86_400_000, [task('a.example.com', ['a.example.com/new'])]));
        assert.ok(out.ok && BigInt(out.taskIds[0]) > BigInt(before));
      });
    });

    describe('capabilities', () => {
      it('are the backend differences code reads, and only those', async () => {
        assert.deepEqual(Object.keys(store.capabilities).sort(), expected.listenForWork ? ['listenForCancel', 'listenForWork'] : []);
        if (expected.listenForWork) {
          let heard = 0;
          const off = store.capabilities.listenForWork!(() => heard++);
          assert.equal(typeof off, 'function');
          off();
          assert.equal(heard, 0);
        }
      });
    });
  });
}
