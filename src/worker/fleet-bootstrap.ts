import type { EngineConfig } from '../config/config.js';
import type { Store } from '../store/port.js';

/**
 * The emulator's out-of-the-box fleet: when a store has no cache nodes at all, create
 * `simulatedNodes` simulated ones in group `default`, half `domestic` and half `overseas` so
 * PushObjectCache's Area means something. Once any node exists this does nothing, so operators
 * who replace the fleet (refreshd node add/remove) are never overridden.
 */
export async function ensureSimulatedFleet(store: Pick<Store, 'fleet'>, cfg: EngineConfig, now = Date.now()): Promise<number> {
  if (cfg.simulatedNodes <= 0 || (await store.fleet.listNodes()).length > 0) return 0;
  for (let i = 1; i <= cfg.simulatedNodes; i++) {
    // Several processes may start on one shared store at once: a node another one just added is fine.
    await store.fleet.addNode({
      name: `sim-${i}`,
      driver: 'simulated',
      address: `simulated/${i}`,
      group: 'default',
      area: i % 2 === 1 ? 'domestic' : 'overseas',
      enabled: true,
      options: { latencyMs: cfg.simulatedLatencyMs, failureRate: cfg.simulatedFailureRate, concurrency: 64 },
      createdAt: now,
    }).catch(async (err: unknown) => {
      if (!(await store.fleet.listNodes()).some((n) => n.name === `sim-${i}`)) throw err;
    });
  }
  return cfg.simulatedNodes;
}
