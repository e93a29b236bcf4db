import { CDN } from './cdn-2018-05-10.js';
import type { ProductSpec } from './types.js';
import { VOD } from './vod-2017-03-21.js';

export const PRODUCTS: readonly ProductSpec[] = [CDN, VOD];

const byVersion = new Map(PRODUCTS.map((p) => [p.version, p]));

export function productForVersion(version: string | undefined): ProductSpec | undefined {
  return version === undefined ? undefined : byVersion.get(version);
}
