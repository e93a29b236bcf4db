import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EdgeJob, EdgeNode } from '../../src/edges/driver.js';
import { EdgeHttpClient } from '../../src/edges/http-client.js';
import { createDrivers } from '../../src/edges/registry.js';

/**
 * Purge by cache tag on the caches that keep no tags (nginx, Traffic Server, Squid): each driver
 * refuses at once, for good, with the reason — and sends nothing to the node (a listener counts
 * connections). Varnish's tag purge is tested on a real varnishd in varnish.test.ts.
 */
let listener: Server;
let connections = 0;
const http = new EdgeHttpClient();
const drivers = createDrivers(http);

before(async () => {
  listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await http.close();
  await new Promise((resolve) => listener.close(resolve));
});

const job: EdgeJob = { kind: 'refresh', objectType: 'cachetag', force: true, objectPath: 'sale', host: 'a.example', scheme: 'http', path: 'sale', headers: {}, origin: null };

describe('purge by cache tag where the cache keeps no tags', () => {
  for (const [driver, reason] of [
    ['nginx', 'nginx keys its cache on URLs alone and keeps no tags'],
    ['ats', 'Traffic Server keeps no tags on cached objects'],
    ['squid', 'Squid keeps no tags on cached objects'],
  ] as const) {
    it(`${driver}: refused for good, with the reason, and nothing sent`, async () => {
      const node: EdgeNode = { id: 1, name: `${driver}-1`, driver, address: `127.0.0.1:${(listener.address() as AddressInfo).port}`, options: { purgePrefix: '/purge' } };
      const outcome = await drivers[driver].execute(node, job, new AbortController().signal);
      assert.deepEqual(outcome, {
        kind: 'permanent',
        error: `${driver} node ${driver}-1 cannot purge by cache tag: ${reason}. Serve the domain from Varnish with xkey, or refresh its URLs.`,
        description: 'Internal Error',
      });
      assert.equal(connections, 0);
    });
  }
});
