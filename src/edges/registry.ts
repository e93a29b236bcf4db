import type { EdgeDriver } from './driver.js';
import type { EdgeHttpClient } from './http-client.js';
import { SimulatedDriver } from './simulated.js';
import { VarnishDriver } from './varnish.js';

/** Driver name (as stored on each node) → driver, all sharing one HTTP client. */
export function createDrivers(http: EdgeHttpClient): Record<string, EdgeDriver> {
  return {
    simulated: new SimulatedDriver(http),
    varnish: new VarnishDriver(http),
  };
}

export const DRIVER_NAMES = ['simulated', 'varnish', 'nginx', 'ats', 'squid'] as const;
