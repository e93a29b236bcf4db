import type { ErrorCode } from './errors.js';

/** How one request parameter is read and checked. Validation, docs and tests read these. */
export type ParamSpec = { doc: string; required?: boolean } & (
  | { type: 'string'; maxLength?: number; default?: string }
  | { type: 'integer'; min: number; max: number; default?: number }
  | { type: 'boolean'; default?: boolean }
  | {
      type: 'enum';
      /** Canonical spellings, as echoed back on the wire. */
      values: readonly string[];
      /** Older spellings accepted and mapped to a canonical value (e.g. ObjectType `path`). */
      aliases?: Record<string, string>;
      default?: string;
      /** The documented code for a value outside `values`; InvalidParameter otherwise. */
      error?: ErrorCode;
    }
);

export type Product = 'cdn' | 'vod';

/** How a describe action lists its rows (docs/protocol.md §6: `Tasks.CDNTask` vs bare `Tasks` vs `Tasks.Task`). */
export type TaskListShape = { element: 'CDNTask' | 'Task' } | { element: null };

export interface ActionSpec {
  name: string;
  summary: string;
  /** RAM action checked by identity (issue 4): `cdn:<Action>` / `vod:<Action>`. */
  ramAction: string;
  /** `domain`: the RAM resource is `acs:<product>:*:<accountId>:domain/<DomainName>`; `*` otherwise. */
  resource: 'domain' | '*';
  /** Calls per second per user, and the code answered past it. */
  rateLimit: { perSecond: number; error: 'Throttling' | 'TooManyRequests' };
  params: Record<string, ParamSpec>;
  /** For describe actions: the list shape of `Tasks`. */
  taskList?: TaskListShape;
  /** Fields of a successful answer, for docs/api.md. */
  result: Record<string, string>;
}

export interface ProductSpec {
  product: Product;
  version: string;
  /** Display name in messages such as "Your account does not open CDN service yet." */
  serviceName: string;
  /** HostId in error bodies, as Alibaba's gateway fills it. */
  hostId: string;
  actions: Record<string, ActionSpec>;
}
