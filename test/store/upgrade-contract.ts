import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveStatus } from '../../src/domain/progress.js';
import type { Store, SubmitBatch } from '../../src/store/port.js';

/** The migrations upgrade tests exist for, by what they added (each store numbers them its own way). */
export type Migration = 'pending-until-confirmed' | 'verified-by' | 'client-tokens' | 'verify-urls';

/** What the upgrade contract needs of an adapter. */
export interface UpgradeHarness {
  /** A new, empty store at today's schema. */
  store: Store;
  /**
   * Close the store, run `sql` on its data (plain SQL both dialects take), rewind it to the
   * schema just before `migration` (rewind.ts), and open it again: the migrations from there on
   * run on the rows today's code wrote.
   */
  reopenBefore: (migration: Migration, sql?: string) => Promise<Store>;
  /** Today's schema version, as `ops.health()` reports it. */
  latest: number;
}

/**
 * A store written by an older release opens with today's code: each migration that changed how
 * rows are read or written is tested on real rows written before it, on SQLite and PostgreSQL.
 */
export function upgradeContract(name: string, open: () => Promise<UpgradeHarness>): void {
  describe(`Store upgrades: ${name}`, () => {
    const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);
    let uid = 1000000000000090;

    /** An account, domain `d.example.com` on group g with `nodes`, and a submit builder. */
    async function setUp(h: UpgradeHarness, nodes: string[], driver = 'varnish') {
      const acct = (await h.store.identity.createAccount({ uid: String(uid++), name: 'up', createdAt: T0 })).id;
      await h.store.domains.addDomain({ name: 'd.example.com', accountId: acct, product: 'cdn', origin: null, online: true, nodeGroup: 'g', createdAt: T0 });
      for (const n of nodes) await h.store.fleet.addNode({ name: n, driver, address: '127.0.0.1:1', group: 'g', area: 'domestic', enabled: true, options: {}, createdAt: T0 });
      const batch = (paths: string[], more: { objectType?: 'file' | 'directory'; verifyUrls?: string[]; token?: string } = {}): SubmitBatch => ({
        accountId: acct, product: 'cdn', createdAt: T0, consume: [],
        tasks: [{ domain: 'd.example.com', objectType: more.objectType ?? 'file', force: false, area: null, l2Preload: false, withHeader: null, paths, verifyUrls: more.verifyUrls }],
        clientToken: more.token === undefined ? undefined : { token: more.token, fingerprint: `fp-${paths.join()}`, expiresAt: T0 + 86_400_000 },
      });
      return { acct, batch };
    }

    it('Pending until confirmed: dispatched items no node has confirmed move from Refreshing to Pending, counts included', async () => {
      const h = await open();
      const { acct, batch } = await setUp(h, ['u1', 'u2'], 'simulated');
      const out = await h.store.tasks.submit(batch(['d.example.com/a', 'd.example.com/b', 'd.example.com/c']));
      assert.ok(out.ok);
      const { claimed } = await h.store.queue.dispatchAndClaim('up', T0, 60_000, 10, 100);
      // a: one node of two confirmed (Refreshing either way); b and c: none yet.
      const a = claimed.find((c) => c.objectPath.endsWith('/a'))!;
      await h.store.queue.recordOutcomes(T0 + 1, [{ itemId: a.itemId, nodeId: a.nodeId, lease: a.lease, state: 'applied' }]);
      // How the release before stored b and c.
      const store = await h.reopenBefore('pending-until-confirmed', "UPDATE items SET status = 'Refreshing' WHERE object_path IN ('d.example.com/b', 'd.example.com/c')");
      try {
        assert.equal((await store.ops.health()).schemaVersion, h.latest);
        const rows = await store.tasks.itemsOfTasks(acct, 'cdn', out.taskIds, 0);
        assert.deepEqual(rows.map((r) => [r.objectPath, deriveStatus(r.counts)]).sort(), [['d.example.com/a', 'Refreshing'], ['d.example.com/b', 'Pending'], ['d.example.com/c', 'Pending']]);
        const total = async (status: 'Pending' | 'Refreshing') =>
          (await store.tasks.queryItems({ accountId: acct, product: 'cdn', from: T0 - 3_600_000, to: T0 + 2 * 3_600_000 - 1, offset: 0, limit: 10, status })).total;
        assert.equal(await total('Pending'), 2);
        assert.equal(await total('Refreshing'), 1);
      } finally {
        await store.close();
      }
    });

    it('verified_by and node groups: old outcomes read as unverified, new ones are recorded, groups settable', async () => {
      const h = await open();
      const { acct, batch } = await setUp(h, ['v1', 'v2']);
      const out = await h.store.tasks.submit(batch(['d.example.com/a']));
      assert.ok(out.ok);
      const { claimed } = await h.store.queue.dispatchAndClaim('up', T0, 60_000, 10, 100);
      const [first, second] = [...claimed].sort((x, y) => x.nodeId - y.nodeId);
      await h.store.queue.recordOutcomes(T0 + 1, [{ itemId: first.itemId, nodeId: first.nodeId, lease: first.lease, state: 'applied' }]);
      const store = await h.reopenBefore('verified-by');
      try {
        assert.equal((await store.ops.health()).schemaVersion, h.latest);
        const nodes = async () => (await store.tasks.attemptsOfTasks(acct, 'cdn', out.taskIds, 0)).map((r) => [r.node, r.state, r.verifiedBy]);
        assert.deepEqual(await nodes(), [['v1', 'applied', null], ['v2', 'pending', null]]);
        await store.queue.recordOutcomes(T0 + 2, [{ itemId: second.itemId, nodeId: second.nodeId, lease: second.lease, state: 'applied', verifiedBy: 'probe' }]);
        assert.deepEqual(await nodes(), [['v1', 'applied', null], ['v2', 'applied', 'probe']]);
        assert.deepEqual(await store.fleet.listNodeGroups(), []);
        await store.fleet.setNodeGroup({ name: 'g', verify: 'ack' });
        assert.deepEqual(await store.fleet.listNodeGroups(), [{ name: 'g', verify: 'ack' }]);
      } finally {
        await store.close();
      }
    });

    it('client tokens: old tasks stay, tokened submits work from then on', async () => {
      const h = await open();
      const { acct, batch } = await setUp(h, []);
      const before = await h.store.tasks.submit(batch(['d.example.com/old']));
      assert.ok(before.ok);
      const store = await h.reopenBefore('client-tokens');
      try {
        assert.equal((await store.ops.health()).schemaVersion, h.latest);
        assert.equal((await store.tasks.itemsOfTasks(acct, 'cdn', before.taskIds, 0)).length, 1);
        const first = await store.tasks.submit(batch(['d.example.com/new'], { token: 'up' }));
        const again = await store.tasks.submit(batch(['d.example.com/new'], { token: 'up' }));
        assert.ok(first.ok && again.ok && again.replayed);
        assert.deepEqual(again.taskIds, first.taskIds);
      } finally {
        await store.close();
      }
    });

    it('verify_urls: old tasks hand out their attempts with no samples, new tasks keep theirs', async () => {
      const h = await open();
      const { batch } = await setUp(h, ['s1']);
      assert.ok((await h.store.tasks.submit(batch(['d.example.com/old/'], { objectType: 'directory' }))).ok);
      const store = await h.reopenBefore('verify-urls');
      try {
        assert.equal((await store.ops.health()).schemaVersion, h.latest);
        assert.ok((await store.tasks.submit(batch(['d.example.com/new/'], { objectType: 'directory', verifyUrls: ['d.example.com/new/a.png'] }))).ok);
        const { claimed } = await store.queue.dispatchAndClaim('up', T0, 60_000, 10, 100);
        assert.deepEqual(claimed.map((c) => [c.objectPath, c.verifyUrls]).sort(), [['d.example.com/new/', ['d.example.com/new/a.png']], ['d.example.com/old/', []]]);
      } finally {
        await store.close();
      }
    });
  });
}
