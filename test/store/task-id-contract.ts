import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/store/port.js';

/**
 * Task ids of 19 digits (the API's longest, domain/task-id.ts) name tasks in every store: the
 * stores once dropped them as malformed (18 digits at most), so WaitForTasks saw such a task as
 * done at once and PostgreSQL's describe queries found nothing. Ids past 2^63 − 1 name nothing.
 * `restartTaskIds` makes the store's next task id `next` (test-only, per adapter).
 */
export function taskIdContract<S extends Store>(name: string, open: () => Promise<S>, restartTaskIds: (store: S, next: string) => Promise<void>): void {
  describe(`task ids of 19 digits: ${name}`, () => {
    let store: S;
    let account: number;
    const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
    const ID = '1000000000000000000';

    before(async () => {
      store = await open();
      account = (await store.identity.createAccount({ uid: '1000000000000031', name: 'ids', createdAt: T0 })).id;
      await store.domains.addDomain({ name: 'ids.example.com', accountId: account, product: 'cdn', origin: null, online: true, nodeGroup: 'default', createdAt: T0 });
      await restartTaskIds(store, ID);
      const outcome = await store.tasks.submit({
        accountId: account, product: 'cdn', createdAt: T0, consume: [],
        tasks: [{ domain: 'ids.example.com', objectType: 'file', force: false, area: null, l2Preload: false, withHeader: null, paths: ['ids.example.com/a'] }],
      });
      assert.ok(outcome.ok);
      assert.deepEqual(outcome.taskIds, [ID]);
    });
    after(() => store.close());

    it('a 19-digit task id finds its rows, by id and through the TaskId filter', async () => {
      assert.deepEqual((await store.tasks.itemsOfTasks(account, 'cdn', [ID], 0)).map((r) => [r.taskId, r.objectPath]), [[ID, 'ids.example.com/a']]);
      const q = await store.tasks.queryItems({ accountId: account, product: 'cdn', from: 0, to: T0 + 1, taskId: ID, offset: 0, limit: 10 });
      assert.equal(q.total, 1);
      assert.equal(q.rows[0].taskId, ID);
    });

    it('a 19-digit task still open counts as open (WaitForTasks keeps waiting)', async () => {
      assert.equal(await store.tasks.countOpenTasks(account, 'cdn', [ID], 0), 1);
    });

    it('an id past 2^63 − 1 names no task, and is no error', async () => {
      const beyond = '9999999999999999999';
      assert.deepEqual(await store.tasks.itemsOfTasks(account, 'cdn', [beyond], 0), []);
      assert.equal(await store.tasks.countOpenTasks(account, 'cdn', [beyond, ID], 0), 1);
      assert.deepEqual(await store.tasks.attemptsOfTasks(account, 'cdn', [beyond], 0), []);
      const q = await store.tasks.queryItems({ accountId: account, product: 'cdn', from: 0, to: T0 + 1, taskId: beyond, offset: 0, limit: 10 });
      assert.deepEqual(q, { total: 0, rows: [] });
    });
  });
}
