/**
 * Glob patterns for targets, compiled once at load:
 * `*` any run of characters except `/`, `**` any run including `/` (as a whole
 * segment it also matches zero segments: `a/**` matches `a`, `a/**\/b` matches
 * `a/b`), `?` one character (one Unicode code point) except `/`, `{a,b}`
 * alternatives (nestable; they mean what their expansion means, so
 * `{dir/**,x}` covers `dir` too), `\` escapes the next character. Everything else is
 * literal and case-sensitive. Wildcards match dotfiles too, so a deny list
 * cannot be escaped through one.
 *
 * Targets are hostile (a model writes them), so matching is linear in the
 * target's length for every pattern: patterns that a backtracking regex could
 * make super-linear (`*a*a*b` against `aaaa…`) run on a small NFA instead.
 */

import { expandBraces, JOIN, MAX_EXPANSIONS } from "./brace-expansion.js";

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
  if (pattern.includes("**") && pattern.includes("{") && expandBraces(pattern) === undefined) {
    return `braces around "**" expand to more than ${MAX_EXPANSIONS} patterns; split it into several patterns`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Parsing: one syntax tree, two back ends (regex and NFA), so they cannot drift.

/** `lit` one code point; `one` = `?`; `star` = `*`; `any` = `**` inside a segment; `segs` = zero or more whole segments (`**\/`); `tail` = `(/…)?` for a trailing `/**`. */
/** @internal */
export type Item =
  | { t: "lit"; c: string }
  | { t: "one" }
  | { t: "star" }
  | { t: "any" }
  | { t: "segs" }
  | { t: "tail" }
  | { t: "alt"; alts: Item[][] };

/**
 * @internal The syntax tree of a valid pattern. Braces mean what their expansion means,
 * so `{dir/**,x}` covers `dir` exactly as `dir/**` does: a pattern with both
 * braces and `**` is expanded first (`globError` caps the alternatives).
 */
export function parsePattern(pattern: string): Item[] {
  if (pattern.includes("**") && pattern.includes("{")) {
    const expanded = expandBraces(pattern)!;
    return expanded.length === 1 ? parseGlob(expanded[0]!) : [{ t: "alt", alts: expanded.map(parseGlob) }];
  }
  return parseGlob(pattern);
}

function parseGlob(pattern: string): Item[] {
  const root: Item[] = [];
  // Each open brace: the alternatives so far and the sequence being built.
  const stack: { alts: Item[][]; seq: Item[] }[] = [];
  let seq = root;
  const n = pattern.length;
  for (let i = 0; i < n; ) {
    const c = pattern[i]!;
    if (c === "\\") {
      const cp = String.fromCodePoint(pattern.codePointAt(i + 1)!);
      seq.push({ t: "lit", c: cp });
      i += 1 + cp.length;
    } else if (c === "*") {
      let j = i;
      while (pattern[j + 1] === "*") j++;
      const globstar = j > i;
      // Neighbours are read through JOIN marks left by brace expansion.
      let before = i - 1;
      while (before >= 0 && pattern[before] === JOIN) before--;
      let after = j + 1;
      while (after < n && pattern[after] === JOIN) after++;
      const atStart = before < 0;
      const atEnd = after >= n;
      const prev = atStart ? "" : pattern[before];
      const next = atEnd ? "" : pattern[after];
      if (globstar && stack.length === 0 && (atStart || prev === "/") && (atEnd || next === "/")) {
        if (atStart && atEnd) seq.push({ t: "any" });
        else if (atEnd) {
          // "a/**": the "/" just read becomes optional, so "a" itself matches too.
          seq.pop();
          seq.push({ t: "tail" });
        } else {
          // "**/" at the start or "/**/" in the middle: zero or more segments.
          seq.push({ t: "segs" });
          j = after;
        }
      } else seq.push({ t: globstar ? "any" : "star" });
      i = j + 1;
    } else if (c === JOIN) {
      i++;
    } else if (c === "?") {
      seq.push({ t: "one" });
      i++;
    } else if (c === "{") {
      const frame = { alts: [] as Item[][], seq };
      stack.push(frame);
      seq = [];
      i++;
    } else if (c === "}") {
      const frame = stack.pop()!;
      frame.alts.push(seq);
      seq = frame.seq;
      seq.push({ t: "alt", alts: frame.alts });
      i++;
    } else if (c === "," && stack.length > 0) {
      stack[stack.length - 1]!.alts.push(seq);
      seq = [];
      i++;
    } else {
      const cp = String.fromCodePoint(pattern.codePointAt(i)!);
      seq.push({ t: "lit", c: cp });
      i += cp.length;
    }
  }
  return root;
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function itemsToRegex(items: readonly Item[]): string {
  let out = "";
  for (const it of items) {
    switch (it.t) {
      case "lit":
        out += escapeRegex(it.c);
        break;
      case "one":
        out += "[^/]";
        break;
      case "star":
        out += "[^/]*";
        break;
      case "any":
        out += ".*";
        break;
      case "segs":
        out += "(?:.*/)?";
        break;
      case "tail":
        out += "(?:/.*)?";
        break;
      case "alt":
        out += `(?:${it.alts.map(itemsToRegex).join("|")})`;
        break;
    }
  }
  return out;
}

/** Translates a valid glob into a regular-expression source (no anchors; use the `u` and `s` flags). */
export function globToRegexSource(pattern: string): string {
  return itemsToRegex(parsePattern(pattern));
}

/**
 * True when an anchored backtracking regex for these items is linear in the
 * target: at most one unbounded repetition in the whole pattern, and few
 * alternative paths. Anything else runs on the NFA.
 */
function regexIsLinear(items: readonly Item[]): boolean {
  let reps = 0;
  let paths = 1;
  const walk = (seq: readonly Item[]): void => {
    for (const it of seq) {
      if (it.t === "star" || it.t === "any" || it.t === "segs" || it.t === "tail") reps++;
      else if (it.t === "alt") {
        paths *= Math.max(1, it.alts.length);
        for (const a of it.alts) walk(a);
      }
    }
  };
  walk(items);
  return reps <= 1 && paths <= 64;
}

// ---------------------------------------------------------------------------
// Thompson NFA: O(target length x pattern size), no backtracking. A lazily
// built DFA over it (below) makes the common case one table lookup per character.

const CHAR = 0;
const NOSLASH = 1;
const ANY = 2;
const SPLIT = 3;
const MATCH = 4;
const SLASH = 0x2f;

class Nfa {
  readonly #type: Uint8Array;
  readonly #cp: Int32Array;
  readonly #out1: Int32Array;
  readonly #out2: Int32Array;
  readonly #start: number;
  /** For each MATCH state, the index of the alternative it ends (0 for a single pattern). */
  readonly #matchOf: Int32Array;
  // Scratch space, reused: matching is synchronous and calls no user code.
  readonly #a: Int32Array;
  readonly #b: Int32Array;
  readonly #stack: Int32Array;
  readonly #mark: Uint32Array;
  #gen = 0;

  /** `items` is one pattern, or with `list` set, a list of patterns whose matches say which one matched. */
  constructor(items: readonly Item[] | { readonly list: readonly (readonly Item[])[] }) {
    const type: number[] = [];
    const cp: number[] = [];
    const out1: number[] = [];
    const out2: number[] = [];
    const matchOf: number[] = [];
    const state = (t: number, c = -1, o1 = -1, o2 = -1) => {
      type.push(t);
      cp.push(c);
      out1.push(o1);
      out2.push(o2);
      matchOf.push(-1);
      return type.length - 1;
    };
    const match = (index: number) => {
      const s = state(MATCH);
      matchOf[s] = index;
      return s;
    };
    const loop = (t: number, next: number) => {
      // SPLIT(step, next) where step consumes one character and returns to the split.
      const split = state(SPLIT, -1, -1, next);
      out1[split] = state(t, -1, split);
      return split;
    };
    // Built right to left, so every state knows its successor.
    const build = (seq: readonly Item[], next: number): number => {
      for (let k = seq.length - 1; k >= 0; k--) {
        const it = seq[k]!;
        switch (it.t) {
          case "lit":
            next = state(CHAR, it.c.codePointAt(0)!, next);
            break;
          case "one":
            next = state(NOSLASH, -1, next);
            break;
          case "star":
            next = loop(NOSLASH, next);
            break;
          case "any":
            next = loop(ANY, next);
            break;
          case "segs": {
            // (?:.*/)?
            const inner = loop(ANY, state(CHAR, SLASH, next));
            next = state(SPLIT, -1, inner, next);
            break;
          }
          case "tail": {
            // (?:/.*)?
            const slash = state(CHAR, SLASH, loop(ANY, next));
            next = state(SPLIT, -1, slash, next);
            break;
          }
          case "alt": {
            const starts = it.alts.map((a) => build(a, next));
            let s = starts[starts.length - 1]!;
            for (let a = starts.length - 2; a >= 0; a--) s = state(SPLIT, -1, starts[a]!, s);
            next = s;
            break;
          }
        }
      }
      return next;
    };
    if ("list" in items) {
      // One MATCH state per pattern, so an accepting set names its patterns.
      const starts = items.list.map((seq, i) => build(seq, match(i)));
      let s = starts.length > 0 ? starts[starts.length - 1]! : state(CHAR, -2) /* matches nothing */;
      for (let a = starts.length - 2; a >= 0; a--) s = state(SPLIT, -1, starts[a]!, s);
      this.#start = s;
    } else this.#start = build(items, match(0));
    const size = type.length;
    this.#matchOf = Int32Array.from(matchOf);
    this.#type = Uint8Array.from(type);
    this.#cp = Int32Array.from(cp);
    this.#out1 = Int32Array.from(out1);
    this.#out2 = Int32Array.from(out2);
    this.#a = new Int32Array(size);
    this.#b = new Int32Array(size);
    this.#stack = new Int32Array(size * 2 + 2);
    this.#mark = new Uint32Array(size);
  }

  /** Adds `s` and everything reachable through SPLITs to `list`; returns the new length. */
  #add(list: Int32Array, len: number, s: number): number {
    const type = this.#type;
    const mark = this.#mark;
    const gen = this.#gen;
    const stack = this.#stack;
    let sp = 0;
    stack[sp++] = s;
    while (sp > 0) {
      const x = stack[--sp]!;
      if (mark[x] === gen) continue;
      mark[x] = gen;
      if (type[x] === SPLIT) {
        stack[sp++] = this.#out2[x]!;
        stack[sp++] = this.#out1[x]!;
      } else list[len++] = x;
    }
    return len;
  }

  #nextGen(): void {
    if (++this.#gen === 0xffffffff) {
      this.#mark.fill(0);
      this.#gen = 1;
    }
  }

  /** The closure of the start state, sorted. */
  startSet(): Int32Array {
    this.#nextGen();
    const len = this.#add(this.#a, 0, this.#start);
    return this.#a.slice(0, len).sort();
  }

  /** The states reached from `set` by code point `c` (-1: any character that is neither `/` nor a pattern literal), sorted. */
  step(set: Int32Array, c: number): Int32Array {
    this.#nextGen();
    const len = this.#stepInto(set, set.length, c, this.#b);
    return this.#b.slice(0, len).sort();
  }

  #stepInto(cur: Int32Array, clen: number, c: number, nxt: Int32Array): number {
    const type = this.#type;
    const cps = this.#cp;
    const out1 = this.#out1;
    let nlen = 0;
    for (let k = 0; k < clen; k++) {
      const s = cur[k]!;
      const t = type[s];
      if (t === ANY || (t === NOSLASH && c !== SLASH) || (t === CHAR && cps[s] === c)) {
        nlen = this.#add(nxt, nlen, out1[s]!);
      }
    }
    return nlen;
  }

  /** The lowest pattern index among the MATCH states in `set`, or -1 when it has none. */
  accepts(set: Int32Array, len = set.length): number {
    let best = -1;
    for (let k = 0; k < len; k++) {
      const m = this.#matchOf[set[k]!]!;
      if (m >= 0 && (best < 0 || m < best)) best = m;
    }
    return best;
  }

  /** The literal code points of the pattern (each gets its own DFA input class). */
  literals(): number[] {
    const out = new Set<number>();
    for (let s = 0; s < this.#type.length; s++) if (this.#type[s] === CHAR) out.add(this.#cp[s]!);
    out.delete(SLASH);
    return [...out];
  }

  /** Plain simulation from the start, for targets the DFA cache cannot take. */
  test(target: string): boolean {
    return this.match(target) >= 0;
  }

  /** The lowest index of a pattern that matches `target`, or -1. */
  match(target: string): number {
    let cur = this.#a;
    let nxt = this.#b;
    this.#nextGen();
    let clen = this.#add(cur, 0, this.#start);
    const n = target.length;
    for (let i = 0; i < n && clen > 0; ) {
      const c = target.codePointAt(i)!;
      i += c > 0xffff ? 2 : 1;
      this.#nextGen();
      const nlen = this.#stepInto(cur, clen, c, nxt);
      const swap = cur;
      cur = nxt;
      nxt = swap;
      clen = nlen;
    }
    return this.accepts(cur, clen);
  }
}

/** Most DFA states cached per matcher; past it, the cache is emptied and rebuilt (RE2-style). */
const MAX_DFA_STATES = 256;
const UNKNOWN = -1;
const DEAD = -2;

/**
 * A DFA built lazily from the NFA, one state per set of NFA states actually
 * reached. Input characters fall into classes: `/`, each literal of the
 * pattern, and "anything else". One table lookup per character.
 */
/** @internal */
export class Dfa {
  readonly #nfa: Nfa;
  readonly #ascii = new Int32Array(128);
  readonly #other = new Map<number, number>();
  readonly #classCode: number[];
  readonly #sets: Int32Array[] = [];
  /** Per state: the lowest index of a pattern it accepts, or -1. */
  readonly #accept: number[] = [];
  readonly #next: Int32Array[] = [];
  readonly #index = new Map<string, number>();
  #flushCount = 0;

  constructor(items: readonly Item[] | { readonly list: readonly (readonly Item[])[] }) {
    this.#nfa = new Nfa(items);
    // Class 0: anything else (-1 for the NFA), class 1: "/", then the literals.
    this.#classCode = [-1, SLASH];
    this.#ascii[SLASH] = 1;
    for (const cp of this.#nfa.literals()) {
      const cls = this.#classCode.length;
      this.#classCode.push(cp);
      if (cp < 128) this.#ascii[cp] = cls;
      else this.#other.set(cp, cls);
    }
    this.#state(this.#nfa.startSet());
  }

  #state(set: Int32Array): number {
    if (set.length === 0) return DEAD;
    const key = set.join(",");
    const known = this.#index.get(key);
    if (known !== undefined) return known;
    if (this.#sets.length >= MAX_DFA_STATES) return UNKNOWN;
    const id = this.#sets.length;
    this.#sets.push(set);
    this.#accept.push(this.#nfa.accepts(set));
    this.#next.push(new Int32Array(this.#classCode.length).fill(UNKNOWN));
    this.#index.set(key, id);
    return id;
  }

  /** DFA states built so far. */
  get size(): number {
    return this.#sets.length;
  }

  /** Times the state cache was emptied. */
  get flushes(): number {
    return this.#flushCount;
  }

  #flush(): void {
    this.#flushCount++;
    this.#sets.length = 0;
    this.#accept.length = 0;
    this.#next.length = 0;
    this.#index.clear();
    this.#state(this.#nfa.startSet()); // state 0 again
  }

  test(target: string): boolean {
    return this.match(target) >= 0;
  }

  /** The lowest index of a pattern that matches `target` (0 for a single pattern), or -1. */
  match(target: string): number {
    const n = target.length;
    const ascii = this.#ascii;
    const table = this.#next;
    let s = 0;
    let flushed = false;
    for (let i = 0; i < n; ) {
      let c = target.charCodeAt(i);
      let cls: number;
      if (c < 128) {
        cls = ascii[c]!;
        i++;
      } else {
        c = target.codePointAt(i)!;
        i += c > 0xffff ? 2 : 1;
        cls = this.#other.get(c) ?? 0;
      }
      let t = table[s]![cls]!;
      if (t === UNKNOWN) {
        const set = this.#nfa.step(this.#sets[s]!, this.#classCode[cls]!);
        t = this.#state(set);
        if (t !== UNKNOWN) table[s]![cls] = t;
        else {
          // Cache full: empty it and go on from the current set, as RE2 does. A target that
          // fills it again on its own is simulated instead (still linear).
          if (flushed) return this.#nfa.match(target);
          flushed = true;
          this.#flush();
          t = this.#state(set);
        }
      }
      if (t === DEAD) return -1;
      s = t;
    }
    return this.#accept[s]!;
  }
}

// ---------------------------------------------------------------------------

/** @internal */
export type Shape =
  | { kind: "exact" }
  | { kind: "all" }
  | { kind: "prefix"; base: string }
  | { kind: "regex"; source: string }
  | { kind: "nfa"; items: Item[] };

/** @internal How a pattern is matched. */
export function shapeOf(pattern: string): Shape {
  if (!SPECIAL.test(pattern)) return { kind: "exact" };
  if (pattern === "**") return { kind: "all" };
  if (pattern.endsWith("/**") && !SPECIAL.test(pattern.slice(0, -3)))
    return { kind: "prefix", base: pattern.slice(0, -3) };
  const items = parsePattern(pattern);
  return regexIsLinear(items) ? { kind: "regex", source: itemsToRegex(items) } : { kind: "nfa", items };
}

/**
 * @internal Each matching engine for one valid pattern, for differential tests:
 * the backtracking regex (only safe on short targets), the NFA simulation, the
 * lazy DFA, and which one `compileGlob` picks.
 */
export function globEngines(pattern: string): {
  regex: (t: string) => boolean;
  nfa: (t: string) => boolean;
  dfa: (t: string) => boolean;
  dfaStates: () => number;
  dfaFlushes: () => number;
  picked: Shape["kind"];
} {
  const items = parsePattern(pattern);
  const re = new RegExp(`^${itemsToRegex(items)}$`, "su");
  const nfa = new Nfa(items);
  const dfa = new Dfa(items);
  return {
    regex: (t) => re.test(t),
    nfa: (t) => nfa.test(t),
    dfa: (t) => dfa.test(t),
    dfaStates: () => dfa.size,
    dfaFlushes: () => dfa.flushes,
    picked: shapeOf(pattern).kind,
  };
}

/** Compiles one pattern, using string comparisons where a regex is not needed. */
export function compileGlob(pattern: string): CompiledGlob {
  const problem = globError(pattern);
  if (problem) throw new TypeError(`Invalid glob ${JSON.stringify(pattern)}: ${problem}`);
  const shape = shapeOf(pattern);
  switch (shape.kind) {
    case "exact":
      return { pattern, test: (t) => t === pattern };
    case "all":
      return { pattern, test: () => true };
    case "prefix": {
      const { base } = shape;
      const prefix = `${base}/`;
      return { pattern, test: (t) => t.startsWith(prefix) || t === base };
    }
    case "regex": {
      const re = new RegExp(`^${shape.source}$`, "su");
      return { pattern, test: (t) => re.test(t) };
    }
    case "nfa": {
      const dfa = new Dfa(shape.items);
      return { pattern, test: (t) => dfa.test(t) };
    }
  }
}
