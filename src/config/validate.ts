import { envName, isKey, keys, OTHER_ENV, SCHEMA, type Group, type Key } from './schema.js';

/**
 * Checking values against the schema. Every refusal names the key's full path (and the source
 * it came from) and, for a name that is not a key, the nearest one that is.
 */

const BY_PATH = new Map(keys());

export function keyAt(path: string): Key {
  const key = BY_PATH.get(path);
  if (!key) throw new Error(`no configuration key ${path}`);
  return key;
}

export function defaultsOf(group: Group): Record<string, unknown> {
  return treeOf(Object.fromEntries(keys(group).map(([p, k]) => [p, structuredClone(k.default)])));
}

/** Flat `a.b.c` → value map back into nested objects. */
export function treeOf(flat: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [path, v] of Object.entries(flat)) {
    const parts = path.split('.');
    let at = root;
    for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]] = v;
  }
  return root;
}

/** A nested object (config file, flags, code overrides) → checked flat map of key path → value. */
export function checkTree(value: unknown, source: string, group: Group = SCHEMA, prefix = ''): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${source}: ${prefix ? prefix.slice(0, -1) : 'the configuration'} must be an object of keys, got ${describe(value)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const path = prefix + name;
    const entry = Object.hasOwn(group, name) ? group[name] : undefined;
    if (!entry) throw new Error(`${source}: unknown key ${path}${hint(path)}`);
    if (v === undefined) continue;
    if (isKey(entry)) out[path] = checkValue(path, entry, v, source);
    else Object.assign(out, checkTree(v, source, entry, `${path}.`));
  }
  return out;
}

/** REFRESHD_* variables → checked flat map; an unknown REFRESHD_ variable is refused too. */
export function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const byEnv = new Map([...BY_PATH].map(([path, key]) => [envName(path, key), path]));
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('REFRESHD_') || raw === undefined || raw === '') continue;
    const path = byEnv.get(name);
    if (!path) {
      if (OTHER_ENV.includes(name) || name.startsWith('REFRESHD_TEST_')) continue;
      const near = nearest(name, [...byEnv.keys(), ...OTHER_ENV]);
      throw new Error(`environment: unknown variable ${name}${near ? `; did you mean ${near}?` : ''}`);
    }
    out[path] = checkValue(path, keyAt(path), parseEnv(keyAt(path), raw), `environment ${name}`);
  }
  return out;
}

function parseEnv(key: Key, raw: string): unknown {
  switch (key.kind) {
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
    case 'boolean':
      return { true: true, '1': true, false: false, '0': false }[raw.trim().toLowerCase()] ?? raw;
    case 'range':
      return raw.split(',').map((x) => (/^\s*\d+\s*$/.test(x) ? Number(x) : x));
    default:
      return raw;
  }
}

export function checkValue(path: string, key: Key, v: unknown, source: string): unknown {
  const bad = (want: string): never => {
    throw new Error(`${source}: ${path} must be ${want}, got ${describe(v)}`);
  };
  const inRange = (n: number) => (key.min === undefined || n >= key.min) && (key.max === undefined || n <= key.max);
  const between = `between ${key.min} and ${key.max}`;
  switch (key.kind) {
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) bad(`an integer ${between}`);
      if (!inRange(v as number)) bad(`an integer ${between}`);
      return v;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || !inRange(v)) bad(`a number ${between}`);
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') bad('true or false');
      return v;
    case 'enum':
      if (typeof v !== 'string' || !key.values!.includes(v)) bad(`one of ${key.values!.join(', ')}${typeof v === 'string' && nearest(v, key.values!) ? ` (did you mean ${nearest(v, key.values!)}?)` : ''}`);
      return v;
    case 'string':
      if (typeof v !== 'string' || v === '') bad('a non-empty string');
      if (key.pattern && !key.pattern.re.test(v as string)) bad(key.pattern.says);
      return v;
    case 'range': {
      const ok = Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && inRange(n)) && v[0] <= v[1];
      if (!ok) bad(`[min, max], integers ${between} with min ≤ max`);
      return v;
    }
    case 'hostport':
      return checkHostPort(v, bad);
  }
}

function checkHostPort(v: unknown, bad: (want: string) => never): { host: string; port: number } {
  const want = '"HOST:PORT" (port 0–65535)';
  if (typeof v === 'string') {
    const m = /^(.*):(\d{1,5})$/.exec(v);
    if (!m || !m[1] || Number(m[2]) > 65535) bad(want);
    return { host: m![1].replace(/^\[|\]$/g, ''), port: Number(m![2]) };
  }
  const o = v as { host?: unknown; port?: unknown } | null;
  if (o && typeof o === 'object' && typeof o.host === 'string' && o.host && Number.isInteger(o.port) && (o.port as number) >= 0 && (o.port as number) <= 65535) {
    return { host: o.host, port: o.port as number };
  }
  return bad(want);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** "; did you mean engine.maxAttempts?" for a near miss, else the keys valid at that level. */
function hint(path: string): string {
  const all = [...BY_PATH.keys()];
  const last = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  // A typo within the path, or a right name at the wrong level (maxAttempts → engine.maxAttempts).
  const near = nearest(path, all) ?? all.find((p) => p !== path && last(p) === nearest(last(path), all.map(last)));
  if (near) return `; did you mean ${near}?`;
  const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.') + 1) : '';
  const siblings = [...new Set([...BY_PATH.keys()].filter((p) => p.startsWith(parent)).map((p) => p.slice(parent.length).split('.')[0]))];
  return `; valid keys here: ${siblings.map((s) => parent + s).join(', ')}`;
}

/** The closest candidate by edit distance (case-insensitive), if it is close enough to be a typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
