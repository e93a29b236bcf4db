import type { Config } from '../config/config.js';
import type { HeldCalls } from './held-calls.js';
import type { SubmitHandOff } from '../domain/submit.js';
import type { KeyRecord } from '../protocol/authenticate.js';
import type { ActionSpec, ParamsOf, ProductSpec } from '../spec/types.js';
import type { Account, Store } from '../store/port.js';

/** Everything a handler may use. Handlers see typed params (inferred from the action table), never HTTP. */
export interface ActionContext<A extends ActionSpec = ActionSpec> {
  store: Store;
  /** How a submit reaches the store (domain/submit.ts). */
  handOff: SubmitHandOff;
  config: Config;
  product: ProductSpec;
  action: ActionSpec;
  account: Account;
  key: KeyRecord;
  params: ParamsOf<A>;
  now: number;
  /** Long-polls held open per AccessKey in this process (WaitForTasks). */
  held: HeldCalls;
}

/** The handler of action A: its parameters are typed from A's table entry. */
export type Handler<A extends ActionSpec = ActionSpec> = (ctx: ActionContext<A>) => Promise<Record<string, unknown>>;
