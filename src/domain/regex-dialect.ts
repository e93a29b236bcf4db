/**
 * The regular-expression dialect of Regex refreshes.
 *
 * The expression is checked here but run by the cache: Varnish bans and Traffic Server's
 * regex_revalidate compile it with PCRE2. An expression refreshd accepted and PCRE2 refused
 * used up one of the day's 20 regex refreshes and then failed on every node. So an expression
 * is accepted only when it is valid in both dialects: it must compile as an ECMAScript regular
 * expression in its strict Unicode form (`u` flag, which rejects loose escapes such as `\u{zz}`
 * or `\k<x>` without a group `x`), and it must not use what ECMAScript accepts and PCRE2 (10.42)
 * does not:
 *
 * - `\u` escapes (`\u0041`, `\u{41}`): write the character itself, or `\x41`;
 * - the empty classes `[]` and `[^]`;
 * - a lookbehind whose length varies (`(?<=a+)`, `(?<=a{1,2})`, `(?<=(a|bc))`; alternatives of
 *   different lengths are allowed only at the top of the lookbehind) or that holds a backreference;
 * - the same group name twice;
 * - `\p{…}` properties other than a plain name (`\p{L}`, `\p{Greek}`) or `sc=` / `Script=`.
 *
 * A few expressions PCRE2 accepts are refused by the ECMAScript check (`\e`, `x{`, possessive
 * `a++`, `(?P<n>…)`): the dialect is the intersection, documented in docs/api.md.
 */
export function regexRefusal(source: string): string | undefined {
  try {
    new RegExp(source, 'u');
  } catch (err) {
    return `the regular expression does not compile (${(err as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  return new Scan(source).run();
}

interface Group {
  /** A lookbehind, or a group inside one. */
  lookbehind: boolean;
  /** This group opened the lookbehind (its own `|` is allowed). */
  opensLookbehind: boolean;
}

class Scan {
  private i = 0;
  private readonly groups: Group[] = [];
  private readonly names = new Set<string>();

  constructor(private readonly s: string) {}

  private get inLookbehind(): boolean {
    return this.groups.length > 0 && this.groups[this.groups.length - 1].lookbehind;
  }

  run(): string | undefined {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      let why: string | undefined;
      if (c === '\\') why = this.escape(false);
      else if (c === '[') why = this.charClass();
      else if (c === '(') why = this.open();
      else if (c === ')') {
        this.groups.pop();
        this.i++;
      } else if (c === '|') {
        const top = this.groups[this.groups.length - 1];
        if (top?.lookbehind && !top.opensLookbehind) why = 'a lookbehind may only hold alternatives at its top level (PCRE2 needs a fixed length)';
        this.i++;
      } else if (c === '*' || c === '+' || c === '?') {
        if (this.inLookbehind) why = 'a lookbehind must have a fixed length (no *, + or ? inside it)';
        this.i++;
        if (s[this.i] === '?') this.i++; // lazy
      } else if (c === '{') why = this.braces();
      else this.i++;
      if (why) return why;
    }
    return undefined;
  }

  /** `\x`: at `\`. Inside a class (`inClass`) backreferences do not exist. */
  private escape(inClass: boolean): string | undefined {
    const next = this.s[this.i + 1];
    this.i += 2;
    if (next === 'u') return 'use the character itself or \\xHH instead of a \\u escape (PCRE2 has none)';
    if (next === 'p' || next === 'P') {
      const end = this.s.indexOf('}', this.i);
      const name = this.s.slice(this.i + 1, end);
      this.i = end + 1;
      const eq = name.indexOf('=');
      if (eq >= 0 && !['sc', 'Script'].includes(name.slice(0, eq))) return `\\p{${name}} is not a property PCRE2 knows (use \\p{Name} or \\p{sc=Name})`;
      return undefined;
    }
    if (!inClass && this.inLookbehind && (/[1-9]/.test(next) || next === 'k')) return 'a lookbehind may not hold a backreference';
    return undefined;
  }

  /** `[…]`: at `[`. */
  private charClass(): string | undefined {
    const s = this.s;
    this.i++;
    if (s[this.i] === '^') this.i++;
    if (s[this.i] === ']') return 'an empty character class ([] or [^]) means something else in PCRE2';
    while (this.i < s.length && s[this.i] !== ']') {
      if (s[this.i] === '\\') {
        const why = this.escape(true);
        if (why) return why;
      } else this.i++;
    }
    this.i++;
    return undefined;
  }

  /** `(`, `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`: at `(`. */
  private open(): string | undefined {
    const s = this.s;
    const lookbehind = s.startsWith('(?<=', this.i) || s.startsWith('(?<!', this.i);
    const named = !lookbehind && s.startsWith('(?<', this.i);
    if (named) {
      const end = s.indexOf('>', this.i);
      const name = s.slice(this.i + 3, end);
      if (this.names.has(name)) return `the group name ${name} is used twice`;
      this.names.add(name);
      this.i = end + 1;
    } else this.i += lookbehind ? 4 : s[this.i + 1] === '?' ? 3 : 1;
    this.groups.push({ lookbehind: lookbehind || this.inLookbehind, opensLookbehind: lookbehind });
    return undefined;
  }

  /** `{n}`, `{n,}`, `{n,m}` (the `u` flag allows no other `{`): at `{`. */
  private braces(): string | undefined {
    const end = this.s.indexOf('}', this.i);
    const [min, max] = this.s.slice(this.i + 1, end).split(',');
    this.i = end + 1;
    if (this.s[this.i] === '?') this.i++;
    if (this.inLookbehind && max !== undefined && max !== min) return 'a lookbehind must have a fixed length (no {n,m} inside it)';
    return undefined;
  }
}
