/**
 * Glob patterns for targets, compiled once at load:
 * `*` any run of characters except `/`, `**` any run including `/` (as a whole
 * segment it also matches zero segments: `a/**` matches `a`, `a/**\/b` matches
 * `a/b`), `?` one character except `/`, `{a,b}` alternatives (nestable), `\`
 * escapes the next character. Everything else is literal and case-sensitive.
 * Wildcards match dotfiles too, so a deny list cannot be escaped through one.
 */

const SPECIAL = /[*?{}\\]/;

/** A compiled single pattern. */
export interface CompiledGlob {
  readonly pattern: string;
  test(target: string): boolean;
}

/** Returns a message when `pattern` is malformed, `undefined` when it is fine. */
export function globError(pattern: unknown): string | undefined {
  if (typeof pattern !== "string") return "must be a string";
  if (pattern === "") return "an empty pattern matches nothing useful; remove it";
  if (pattern.includes("\0")) return "must not contain NUL characters";
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      if (i === pattern.length - 1) return "ends with an unfinished escape `\\`";
      i++;
    } else if (c === "{") depth++;
    else if (c === "}") {
      if (depth === 0) return `unmatched "}" at position ${i + 1}`;
      depth--;
    }
  }
  if (depth > 0) return 'unclosed "{": add the matching "}"';
  return undefined;
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Translates a valid glob into a regular-expression source (no anchors). */
export function globToRegexSource(pattern: string): string {
  let out = "";
  let depth = 0;
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      out += escapeRegex(pattern[++i]!);
    } else if (c === "*") {
      let j = i;
      while (pattern[j + 1] === "*") j++;
      const globstar = j > i;
      const prev = i === 0 ? "" : pattern[i - 1];
      const next = j + 1 >= n ? "" : pattern[j + 1];
      const atStart = i === 0;
      const atEnd = j + 1 >= n;
      if (globstar && depth === 0 && (atStart || prev === "/") && (atEnd || next === "/")) {
        if (atStart && atEnd) out += ".*";
        else if (atEnd) {
          // "a/**": drop the "/" just emitted so "a" itself matches too.
          out = out.slice(0, -2) + "(?:/.*)?";
        } else {
          // "**/" at the start or "/**/" in the middle: zero or more segments.
          out += "(?:.*/)?";
          j++;
        }
      } else {
        out += globstar ? ".*" : "[^/]*";
      }
      i = j;
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "{") {
      depth++;
      out += "(?:";
    } else if (c === "}") {
      depth--;
      out += ")";
    } else if (c === "," && depth > 0) {
      out += "|";
    } else {
      out += escapeRegex(c);
    }
  }
  return out;
}

/** Compiles one pattern, using string comparisons where a regex is not needed. */
export function compileGlob(pattern: string): CompiledGlob {
  const problem = globError(pattern);
  if (problem) throw new TypeError(`Invalid glob ${JSON.stringify(pattern)}: ${problem}`);
  if (!SPECIAL.test(pattern)) return { pattern, test: (t) => t === pattern };
  if (pattern === "**") return { pattern, test: () => true };
  if (pattern.endsWith("/**") && !SPECIAL.test(pattern.slice(0, -3))) {
    const base = pattern.slice(0, -3);
    const prefix = `${base}/`;
    return { pattern, test: (t) => t.startsWith(prefix) || t === base };
  }
  const re = new RegExp(`^${globToRegexSource(pattern)}$`, "s");
  return { pattern, test: (t) => re.test(t) };
}

/**
 * A list of patterns compiled into the fewest checks: one `Set` for literal
 * patterns, prefix checks for `dir/**`, and one combined regex for the rest.
 */
export class GlobList {
  readonly patterns: readonly string[];
  readonly #exact: Set<string>;
  readonly #prefixes: readonly string[];
  readonly #bases: ReadonlySet<string>;
  readonly #regex: RegExp | undefined;
  readonly #compiled: readonly CompiledGlob[];
  readonly #matchAll: boolean;

  constructor(patterns: readonly string[]) {
    this.patterns = Object.freeze([...patterns]);
    this.#compiled = patterns.map(compileGlob);
    const exact = new Set<string>();
    const prefixes: string[] = [];
    const bases = new Set<string>();
    const sources: string[] = [];
    let matchAll = false;
    for (const p of patterns) {
      if (p === "**") matchAll = true;
      else if (!SPECIAL.test(p)) exact.add(p);
      else if (p.endsWith("/**") && !SPECIAL.test(p.slice(0, -3))) {
        prefixes.push(`${p.slice(0, -3)}/`);
        bases.add(p.slice(0, -3));
      } else sources.push(globToRegexSource(p));
    }
    this.#exact = exact;
    this.#prefixes = prefixes;
    this.#bases = bases;
    this.#regex = sources.length ? new RegExp(`^(?:${sources.join("|")})$`, "s") : undefined;
    this.#matchAll = matchAll;
  }

  get size(): number {
    return this.patterns.length;
  }

  /** True when any pattern matches. */
  test(target: string): boolean {
    if (this.#matchAll || this.#exact.has(target) || this.#bases.has(target)) return true;
    for (const p of this.#prefixes) if (target.startsWith(p)) return true;
    return this.#regex !== undefined && this.#regex.test(target);
  }

  /** The first pattern that matches, for explanations. */
  find(target: string): string | undefined {
    return this.#compiled.find((g) => g.test(target))?.pattern;
  }
}
