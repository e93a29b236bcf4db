import { ApiError, invalid, missing } from '../spec/errors.js';
import type { ActionSpec, CrossFieldRule, ParamSpec, ParamsOf, ParamTable } from '../spec/types.js';

export type ParamValue = string | number | boolean | undefined;

/**
 * Read an action's parameters from the decoded request, exactly as the action table declares
 * them: required, type, range, enum (with aliases, case-insensitive) and defaults, then the
 * action's cross-field rules. Undeclared parameters are ignored, as Alibaba's gateway ignores
 * unknown extras.
 */
export function validateParams<P extends ParamTable>(action: ActionSpec<P>, raw: Map<string, string>): ParamsOf<ActionSpec<P>> {
  const out: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(action.params)) {
    const value = raw.get(name);
    if (value === undefined || value === '') {
      if (spec.required) throw missing(name);
      out[name] = spec.default;
      continue;
    }
    out[name] = readValue(name, spec, value);
  }
  for (const rule of action.rules ?? []) checkRule(rule, out);
  // The loop above gave every declared parameter a value of its declared type (or its default).
  return out as ParamsOf<ActionSpec<P>>;
}

function checkRule(rule: CrossFieldRule, p: Record<string, ParamValue>): void {
  const given = (name: string) => p[name] !== undefined;
  switch (rule.kind) {
    case 'requires':
      if (rule.when.some(given) && !given(rule.param)) throw new ApiError(rule.error);
      return;
    case 'together':
      if (rule.params.some(given) && !rule.params.every(given)) throw new ApiError(rule.error);
      return;
    case 'onlyWith':
      if (p[rule.param] === rule.value && !rule.values.includes(String(p[rule.other]))) throw new ApiError(rule.error);
      return;
  }
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
      // Own properties only: `constructor` or `__proto__` is not an alias.
      const alias = spec.aliases && Object.hasOwn(spec.aliases, lower) ? spec.aliases[lower] : undefined;
      const canonical = spec.values.find((v) => v.toLowerCase() === lower) ?? alias;
      if (canonical === undefined) throw spec.error ? new ApiError(spec.error) : invalid(name);
      return canonical;
    }
  }
}
