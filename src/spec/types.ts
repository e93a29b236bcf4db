import type { ErrorCode } from './errors.js';

/** How one request parameter is read and checked. Validation, docs and tests read these. */
export type ParamSpec = {
  doc: string;
  required?: boolean;
  /** What refreshd does differently from Alibaba with this parameter (docs/api.md lists it). */
  limitation?: string;
} & (
  | { type: 'string'; maxLength?: number; default?: string }
  | { type: 'integer'; min: number; max: number; default?: number }
  | { type: 'boolean'; default?: boolean }
  | {
      type: 'enum';
      /** Canonical spellings, as echoed back on the wire. */
      values: readonly string[];
      /** Older spellings accepted and mapped to a canonical value (e.g. ObjectType `path`). */
      aliases?: Readonly<Record<string, string>>;
      default?: string;
      /** The documented code for a value outside `values`; InvalidParameter otherwise. */
      error?: ErrorCode;
    }
);

export type ParamTable = Readonly<Record<string, ParamSpec>>;

/**
 * A rule over several parameters, checked after each has been read on its own:
 * - `requires`: when any of `when` is given, `param` must be given too;
 * - `together`: all of `params` or none;
 * - `onlyWith`: `param` may be `value` only while `other` is one of `values` (defaults count).
 */
export type CrossFieldRule =
  | { kind: 'requires'; param: string; when: readonly string[]; error: ErrorCode }
  | { kind: 'together'; params: readonly string[]; error: ErrorCode }
  | { kind: 'onlyWith'; param: string; value: boolean; other: string; values: readonly string[]; error: ErrorCode };

export type Product = 'cdn' | 'vod';

/**
 * How a describe action lists its rows (docs/protocol.md §6): `Tasks.CDNTask`, `Tasks.Task` or the bare `Tasks` array.
 * `unconfirmedAs`: the status a row no node has confirmed yet shows (and is filtered by) where
 * the seed knows no `Pending` (CDN's DescribeRefreshTasks, seed 004).
 */
export type TaskListShape = { element: 'CDNTask' | 'Task'; unconfirmedAs?: 'Refreshing' } | { element: null };

export interface ActionSpec<P extends ParamTable = ParamTable> {
  name: string;
  summary: string;
  /** RAM action checked by identity (issue 4): `cdn:<Action>` / `vod:<Action>`. */
  ramAction: string;
  /** `domain`: the RAM resource is `acs:<product>:*:<accountId>:domain/<DomainName>`; `*` otherwise. */
  resource: 'domain' | '*';
  /** Calls per second per user, and the code answered past it. */
  rateLimit: { perSecond: number; error: 'Throttling' | 'TooManyRequests' };
  params: P;
  /** Rules over several parameters, checked in this order after the parameters themselves. */
  rules?: readonly CrossFieldRule[];
  /**
   * Every code the action itself may answer (beyond GATEWAY_ERRORS and its rate-limit code).
   * test/api/error-codes and bad-input check that each code they see an action answer is here.
   */
  errors: readonly ErrorCode[];
  /** For describe actions: the list shape of `Tasks`. */
  taskList?: TaskListShape;
  /** Fields of a successful answer, for docs/api.md. */
  result: Record<string, string>;
  /** Notes on how refreshd carries the action out, for docs/api.md. */
  notes?: readonly string[];
}

/** An action table entry, with its parameter types kept for ParamsOf (`const` keeps enum values literal). */
export function defineAction<const P extends ParamTable>(spec: ActionSpec<P>): ActionSpec<P> {
  return spec;
}

type ValueOf<S> = S extends { type: 'string' }
  ? string
  : S extends { type: 'integer' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : S extends { type: 'enum'; values: readonly (infer V)[] }
        ? V
        : never;
type Always<S> = S extends { required: true } ? true : S extends { default: string | number | boolean } ? true : false;

/**
 * The parameters a handler receives, as the action table declares them: required or defaulted
 * ones are always there, the others optional.
 */
export type ParamsOf<A extends { params: ParamTable }> = Flat<
  { [K in keyof A['params'] as Always<A['params'][K]> extends true ? K : never]: ValueOf<A['params'][K]> } & {
    [K in keyof A['params'] as Always<A['params'][K]> extends true ? never : K]?: ValueOf<A['params'][K]>;
  }
>;
type Flat<T> = { [K in keyof T]: T[K] };

export interface ProductSpec {
  product: Product;
  version: string;
  /** Display name in messages such as "Your account does not open CDN service yet." */
  serviceName: string;
  /** HostId in error bodies, as Alibaba's gateway fills it. */
  hostId: string;
  actions: Record<string, ActionSpec>;
}
