import { ApiError, invalid, missing } from '../spec/errors.js';
import type { ActionSpec, ParamSpec } from '../spec/types.js';

export type ParamValue = string | number | boolean | undefined;
export type Params = Record<string, ParamValue>;

/**
 * Read an action's parameters from the decoded request, exactly as the action table declares
 * them: required, type, range, enum (with aliases, case-insensitive) and defaults. Undeclared
 * parameters are ignored, as Alibaba's gateway ignores unknown extras.
 */
export function validateParams(action: ActionSpec, raw: Map<string, string>): Params {
  const out: Params = {};
  for (const [name, spec] of Object.entries(action.params)) {
    const value = raw.get(name);
    if (value === undefined || value === '') {
      if (spec.required) throw missing(name);
      out[name] = spec.default;
      continue;
    }
    out[name] = readValue(name, spec, value);
  }
  return out;
}

const INTEGER = /^[0-9]{1,10}$/;

function readValue(name: string, spec: ParamSpec, value: string): ParamValue {
  switch (spec.type) {
    case 'string':
      if (spec.maxLength !== undefined && value.length > spec.maxLength) throw invalid(name);
      return value;
    case 'integer': {
      if (!INTEGER.test(value)) throw invalid(name);
      const n = Number(value);
      if (n < spec.min || n > spec.max) throw invalid(name);
      return n;
    }
    case 'boolean': {
      const lower = value.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw invalid(name);
    }
    case 'enum': {
      const lower = value.toLowerCase();
      const canonical = spec.values.find((v) => v.toLowerCase() === lower) ?? spec.aliases?.[lower];
      if (canonical === undefined) throw spec.error ? new ApiError(spec.error) : invalid(name);
      return canonical;
    }
  }
}
