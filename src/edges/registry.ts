import { AtsDriver } from './ats.js';
import type { EdgeDriver } from './driver.js';
import type { EdgeHttpClient } from './http-client.js';
import { NginxDriver } from './nginx.js';
import { SimulatedDriver } from './simulated.js';
import { SquidDriver } from './squid.js';
import { VarnishDriver } from './varnish.js';

/** Driver name (as stored on each node) → driver, all sharing one HTTP client. */
export function createDrivers(http: EdgeHttpClient): Record<string, EdgeDriver> {
  return {
    simulated: new SimulatedDriver(http),
    varnish: new VarnishDriver(http),
    nginx: new NginxDriver(http),
    ats: new AtsDriver(http),
    squid: new SquidDriver(http),
  };
}

export const DRIVER_NAMES = ['simulated', 'varnish', 'nginx', 'ats', 'squid'] as const;
