import { compileGlob, Dfa, globError, parsePattern, shapeOf, type CompiledGlob, type Item } from "./glob.js";

/** Up to this many regex-shaped patterns in one group share a regex; more go to the group's automaton. */
const MAX_REGEX_ALTERNATIVES = 16;

/** Up to this many `dir/**` patterns, `test` compares each as a prefix instead of looking up every ancestor. */
const MAX_SCANNED_BASES = 4;
const SLASH = 0x2f;
const NO_LENGTHS: ReadonlySet<number> = new Set();

/** Patterns that share a literal directory prefix (`/srv/app/` for `/srv/app/*.md`). */
interface Group {
  readonly regex: RegExp | undefined;
  readonly automaton: Dfa | undefined;
  /** The regex's patterns, to name the one that matched (16 at most). */
  readonly regexPatterns: readonly CompiledGlob[];
  /** The automaton's patterns, by the index its accepting state reports. */
  readonly automatonPatterns: readonly string[];
  /** Each pattern's place in the group, so a hit names the first matching one in list order. */
  readonly order: ReadonlyMap<string, number>;
}

/**
 * The literal directory every match starts with: the pattern's leading
 * literal characters, cut after their last "/" (read from the syntax tree, so
 * the optional "/" of a trailing "/**" is not counted).
 */
function literalDirectory(items: readonly Item[]): string {
  let literal = "";
  for (const it of items) {
    if (it.t !== "lit") break;
    literal += it.c;
  }
  return literal.slice(0, literal.lastIndexOf("/") + 1);
}

function buildGroup(patterns: readonly string[]): Group {
  const useRegex = patterns.filter((p) => shapeOf(p).kind === "regex").length <= MAX_REGEX_ALTERNATIVES;
  const sources: string[] = [];
  const regexPatterns: CompiledGlob[] = [];
  const rest: Item[][] = [];
  const automatonPatterns: string[] = [];
  const order = new Map<string, number>();
  for (const p of patterns) {
    if (!order.has(p)) order.set(p, order.size);
    const shape = shapeOf(p);
    if (shape.kind === "regex" && useRegex) {
      sources.push(shape.source);
      regexPatterns.push(compileGlob(p));
    } else {
      const problem = globError(p);
      if (problem) throw new TypeError(`Invalid glob ${JSON.stringify(p)}: ${problem}`);
      rest.push(parsePattern(p));
      automatonPatterns.push(p);
    }
  }
  return {
    // An alternation of a few linear patterns stays linear (k patterns: k passes at most).
    regex: sources.length ? new RegExp(`^(?:${sources.join("|")})$`, "su") : undefined,
    // The rest share one automaton: one pass over the target whatever their number.
    // Each pattern ends in its own accepting state, so a match names its pattern.
    automaton: rest.length ? new Dfa({ list: rest }) : undefined,
    regexPatterns,
    automatonPatterns,
    order,
  };
}

/**
 * A list of patterns compiled into the fewest checks, indexed so a check
 * costs about the same against ten patterns or ten thousand: literal patterns
 * are one `Set`; `dir/**` patterns are a set of directories, looked up once
 * per ancestor directory of the target; every other pattern is filed under
 * the literal directory it starts with (`/srv/app/` for `/srv/app/*.md`) and
 * only the groups on the target's own path run, each as one regex or one
 * automaton. `find` names the pattern from the same index.
 */
export class GlobList {
  readonly patterns: readonly string[];
  readonly #exact: Set<string>;
  /** `dir` of each `dir/**`, with the pattern. */
  readonly #bases = new Map<string, string>();
  /** Lengths of those `dir`s: only a "/" at such an index can end one. */
  readonly #baseLengths = new Set<number>();
  readonly #groups = new Map<string, Group>();
  readonly #groupLengths = new Set<number>();
  readonly #matchAll: string | undefined;
  /** The `dir`s of a few `dir/**` patterns, for `test`: a prefix compare each beats slicing every ancestor. */
  readonly #fewBases: readonly string[] | undefined;

  constructor(patterns: readonly string[]) {
    this.patterns = Object.freeze([...patterns]);
    const exact = new Set<string>();
    const byDirectory = new Map<string, string[]>();
    let matchAll: string | undefined;
    for (const p of patterns) {
      const shape = shapeOf(p);
      if (shape.kind === "all") matchAll ??= p;
      else if (shape.kind === "exact") exact.add(p);
      else if (shape.kind === "prefix") {
        if (!this.#bases.has(shape.base)) this.#bases.set(shape.base, p);
        this.#baseLengths.add(shape.base.length);
      } else {
        const dir = literalDirectory(parsePattern(p));
        const list = byDirectory.get(dir);
        if (list) list.push(p);
        else byDirectory.set(dir, [p]);
      }
    }
    for (const [dir, list] of byDirectory) {
      this.#groups.set(dir, buildGroup(list));
      if (dir !== "") this.#groupLengths.add(dir.length);
    }
    this.#exact = exact;
    this.#matchAll = matchAll;
    const bases = [...this.#bases.keys()];
    this.#fewBases = bases.length > 0 && bases.length <= MAX_SCANNED_BASES ? bases : undefined;
  }

  get size(): number {
    return this.patterns.length;
  }

  /** True when any pattern matches. */
  test(target: string): boolean {
    if (this.#matchAll !== undefined) return true;
    const few = this.#fewBases;
    if (few === undefined) return this.#search(target, false, true) !== undefined;
    // Any hit will do here (no pattern to name), so the order `#search` keeps does not matter.
    for (const base of few) {
      if (target.startsWith(base) && (target.length === base.length || target.charCodeAt(base.length) === SLASH))
        return true;
    }
    return this.#search(target, false, false) !== undefined;
  }

  /** A pattern that matches (exact and `dir/**` patterns first), for explanations. */
  find(target: string): string | undefined {
    return this.#search(target, true, true) ?? this.#matchAll;
  }

  /** The first hit, as the matching pattern when `name` is set, else as "". `withBases: false` skips `dir/**`. */
  #search(target: string, name: boolean, withBases: boolean): string | undefined {
    if (this.#exact.size > 0 && this.#exact.has(target)) return target;
    const bases = this.#bases;
    const base = withBases && bases.size > 0 ? bases.get(target) : undefined;
    if (base !== undefined) return base;
    const groups = this.#groups;
    const baseLengths = withBases ? this.#baseLengths : NO_LENGTHS;
    if (baseLengths.size > 0 || this.#groupLengths.size > 0) {
      const groupLengths = this.#groupLengths;
      for (let i = target.indexOf("/"); i >= 0; i = target.indexOf("/", i + 1)) {
        if (baseLengths.has(i)) {
          const b = bases.get(target.slice(0, i));
          if (b !== undefined) return b;
        }
        if (groupLengths.has(i + 1)) {
          const found = this.#hit(groups.get(target.slice(0, i + 1)), target, name);
          if (found !== undefined) return found;
        }
      }
    }
    return this.#hit(groups.get(""), target, name);
  }

  #hit(g: Group | undefined, target: string, name: boolean): string | undefined {
    if (g === undefined) return undefined;
    const byRegex = g.regex !== undefined && g.regex.test(target);
    if (byRegex && !name) return "";
    const m = g.automaton !== undefined ? g.automaton.match(target) : -1;
    if (!byRegex) return m < 0 ? undefined : name ? g.automatonPatterns[m]! : "";
    // Both engines may match: the pattern listed first wins, as a scan in list order would.
    const r = g.regexPatterns.find((c) => c.test(target))!.pattern;
    if (m < 0) return r;
    const a = g.automatonPatterns[m]!;
    return g.order.get(a)! < g.order.get(r)! ? a : r;
  }
}
