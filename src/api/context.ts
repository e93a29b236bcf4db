import type { Config } from '../config/config.js';
import type { HeldCalls } from './held-calls.js';
import type { SubmitHandOff } from '../domain/submit.js';
import type { KeyRecord } from '../protocol/authenticate.js';
import type { ActionSpec, ProductSpec } from '../spec/types.js';
import type { Account, Store } from '../store/port.js';
import type { Params } from './validate.js';

/** Everything a handler may use. Handlers see typed params, never HTTP. */
export interface ActionContext {
  store: Store;
  /** How a submit reaches the store (domain/submit.ts). */
  handOff: SubmitHandOff;
  config: Config;
  product: ProductSpec;
  action: ActionSpec;
  account: Account;
  key: KeyRecord;
  params: Params;
  now: number;
  /** Long-polls held open per AccessKey in this process (WaitForTasks). */
  held: HeldCalls;
}

export type Handler = (ctx: ActionContext) => Promise<Record<string, unknown>>;
