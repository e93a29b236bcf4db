import type { Config } from '../config/config.js';
import type { KeyRecord } from '../protocol/authenticate.js';
import type { ActionSpec, ParamsOf, ProductSpec } from '../spec/types.js';
import type { Account, TaskStore } from '../store/port.js';

/** Everything a handler may use. Handlers see typed params (inferred from the action table), never HTTP. */
export interface ActionContext<A extends ActionSpec = ActionSpec> {
  store: TaskStore;
  config: Config;
  product: ProductSpec;
  action: ActionSpec;
  account: Account;
  key: KeyRecord;
  params: ParamsOf<A>;
  now: number;
}

/** The handler of action A: its parameters are typed from A's table entry. */
export type Handler<A extends ActionSpec = ActionSpec> = (ctx: ActionContext<A>) => Promise<Record<string, unknown>>;
