import type { PolicyIssue } from "../errors/policy-validation-error.js";
import { globError } from "./glob.js";
import { RULE_FIELDS, type ActionRule, type FieldKind, type PolicyConfig } from "./rule.js";
import { normalizeUrl, targetKind, type TargetKind } from "./target.js";
import { canonicalUrlPath } from "./url-path.js";

/** Which spelling of keys the input uses: TypeScript camelCase or YAML snake_case. */
export type KeyStyle = "camel" | "snake";

/** Looks up the 1-based YAML line of a path (`rules[2].max_per_minute`), key or value. */
export type LineLookup = (path: string, at: "key" | "value") => number | undefined;

const TOP_KEYS = ["name", "description", "rules"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${String(v)}`;
}

/**
 * Validates a policy given as plain data and returns every problem found, plus
 * the normalised config when there are none. Keys are read with `own` lookups
 * only, so `__proto__` or `constructor` keys are reported, never followed.
 */
export function validatePolicy(
  input: unknown,
  style: KeyStyle,
  lineOf: LineLookup = () => undefined,
): { issues: PolicyIssue[]; config?: PolicyConfig } {
  const issues: PolicyIssue[] = [];
  const add = (path: string, message: string, at: "key" | "value" = "value") => {
    const line = lineOf(path, at);
    issues.push(line === undefined ? { path, message } : { path, message, line });
  };
  if (!isRecord(input)) {
    add("", `a policy must be a mapping with name and rules, got ${describe(input)}`);
    return { issues };
  }
  const own = (o: Record<string, unknown>, k: string) =>
    Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
  for (const key of Object.keys(input)) {
    if (!TOP_KEYS.includes(key))
      add(key, `unknown key ${JSON.stringify(key)} (expected name, description, rules)`, "key");
  }
  const name = own(input, "name");
  if (typeof name !== "string" || name.trim() === "") {
    add(
      "name",
      name === undefined
        ? "required: give the policy a non-empty name"
        : `must be a non-empty string, got ${describe(name)}`,
    );
  }
  const description = own(input, "description");
  if (description !== undefined && typeof description !== "string")
    add("description", `must be a string, got ${describe(description)}`);
  const rulesIn = own(input, "rules");
  const rules: ActionRule[] = [];
  if (rulesIn === undefined || rulesIn === null) {
    // No rules: a valid policy that denies everything.
  } else if (!Array.isArray(rulesIn)) {
    add("rules", `must be a list of rules, got ${describe(rulesIn)}`);
  } else {
    const seen = new Map<string, number>();
    rulesIn.forEach((raw, i) => {
      const rule = validateRule(raw, `rules[${i}]`, style, add);
      // Duplicates are reported even when either rule has other problems.
      const action = isRecord(raw) && typeof raw.action === "string" ? raw.action : undefined;
      if (action !== undefined) {
        const first = seen.get(action);
        if (first !== undefined) {
          add(
            `rules[${i}].action`,
            `duplicate rule for action ${JSON.stringify(action)} (first defined in rules[${first}]); one rule per action`,
          );
        } else seen.set(action, i);
      }
      if (rule) rules.push(rule);
    });
  }
  if (issues.length > 0) return { issues };
  const config: PolicyConfig = { name: name as string, rules };
  if (description !== undefined) config.description = description as string;
  return { issues, config };
}

function validateRule(
  raw: unknown,
  path: string,
  style: KeyStyle,
  add: (path: string, message: string, at?: "key" | "value") => void,
): ActionRule | undefined {
  if (!isRecord(raw)) {
    add(path, `a rule must be a mapping with at least an action, got ${describe(raw)}`);
    return undefined;
  }
  const byKey = new Map<string, (typeof RULE_FIELDS)[number]>();
  for (const f of RULE_FIELDS) byKey.set(style === "camel" ? f[0] : f[1], f);
  const out: Record<string, unknown> = {};
  let ok = true;
  // Patterns are checked against the action's targets even when the rule has other problems, so every problem is reported.
  const action = Object.prototype.hasOwnProperty.call(raw, "action") ? raw.action : undefined;
  const kind = typeof action === "string" && action.trim() !== "" ? targetKind(action) : undefined;
  for (const key of Object.keys(raw)) {
    const field = byKey.get(key);
    if (!field) {
      const other = RULE_FIELDS.find((f) => (style === "camel" ? f[1] : f[0]) === key);
      const hint = other ? `; did you mean ${JSON.stringify(style === "camel" ? other[0] : other[1])}?` : "";
      add(`${path}.${key}`, `unknown key ${JSON.stringify(key)}${hint}`, "key");
      ok = false;
      continue;
    }
    const value = raw[key];
    const problem = checkField(field[2], value, `${path}.${key}`, add, kind);
    if (problem) ok = false;
    else if (value !== undefined) out[field[0]] = field[2] === "globs" ? [...(value as string[])] : value;
  }
  if (!Object.prototype.hasOwnProperty.call(raw, "action")) {
    add(`${path}.action`, "required: which action does this rule govern?");
    ok = false;
  }
  return ok ? (out as unknown as ActionRule) : undefined;
}

function checkField(
  kind: FieldKind,
  value: unknown,
  path: string,
  add: (path: string, message: string) => void,
  targets: TargetKind | undefined,
): boolean {
  switch (kind) {
    case "action":
      if (typeof value !== "string" || value.trim() === "") {
        add(path, `must be a non-empty string, got ${describe(value)}`);
        return true;
      }
      return false;
    case "string":
      if (typeof value !== "string") {
        add(path, `must be a string, got ${describe(value)}`);
        return true;
      }
      return false;
    case "boolean":
      if (typeof value !== "boolean") {
        add(path, `must be true or false, got ${describe(value)}`);
        return true;
      }
      return false;
    case "count":
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || !Number.isSafeInteger(value)) {
        add(path, `must be a whole number >= 0, got ${describe(value)}`);
        return true;
      }
      return false;
    case "globs": {
      if (!Array.isArray(value)) {
        add(path, `must be a list of glob patterns, got ${describe(value)}`);
        return true;
      }
      let bad = false;
      value.forEach((p, i) => {
        const problem = globError(p);
        if (problem) {
          add(`${path}[${i}]`, `invalid glob ${typeof p === "string" ? JSON.stringify(p) : describe(p)}: ${problem}`);
          bad = true;
        }
        // A pattern that can never match a normalised target is a silent hole in a deny list.
        const dead =
          targets !== undefined && typeof p === "string" && p !== "" ? targetPatternProblem(targets, p) : undefined;
        if (dead) {
          add(`${path}[${i}]`, `pattern ${JSON.stringify(p)} ${dead}`);
          bad = true;
        }
      });
      return bad;
    }
  }
}

/**
 * Why a (valid) glob can never match a target of this kind once targets are
 * normalised, or `undefined`. File targets never contain `.`/`..` segments
 * (except leading `..` in relative paths), `//` or a trailing `/`; network
 * targets are whole URLs with a lower-case scheme and host and no default port.
 */
export function targetPatternProblem(kind: TargetKind, pattern: string): string | undefined {
  if (kind === "path") return pathPatternProblem(pattern);
  if (kind === "url") return urlPatternProblem(pattern);
  return undefined;
}

function pathPatternProblem(p: string): string | undefined {
  if (/[^\x00-\x7f]/.test(p) && p.normalize("NFC") !== p) {
    return `never matches: file targets are in Unicode NFC (an NFD name, as macOS writes it, is refused); write ${JSON.stringify(p.normalize("NFC"))}`;
  }
  if (/%[0-9a-f]{2}/i.test(p)) return "never matches: file targets with a percent-escape (%XX) are refused";
  for (let i = 0; i < p.length - 1; i++) {
    if (p[i] !== "\\") continue;
    const next = p[++i]!;
    if (next === "\\")
      return "never matches: file targets never contain a backslash (they are refused or turned into /)";
    if (!"*?{},".includes(next)) {
      return `escapes ${JSON.stringify(next)} with a backslash; file patterns use "/" as the separator (write C:/dir/** for Windows paths)`;
    }
  }
  if (p.length > 1 && p.endsWith("/") && !/^[A-Za-z]:\/$/.test(p)) {
    return `never matches: file targets are normalised without a trailing "/"; use ${JSON.stringify(`${p}**`)} for everything inside`;
  }
  if (/.\/\//.test(p)) return 'never matches: file targets are normalised, so "//" never appears in one';
  const segs = p.split("/");
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg === "." && p !== ".")
      return 'never matches: file targets are normalised, so a "." segment never appears in one';
    if (seg === ".." && segs.slice(0, i).some((s) => s !== "..")) {
      return 'never matches: file targets are normalised, so ".." only appears at the start of a relative path';
    }
  }
  return undefined;
}

function urlPatternProblem(p: string): string | undefined {
  const sep = p.indexOf("://");
  if (sep < 0) {
    // Only a leading "**" (or braces, not checked here) can stand for the "scheme://" every target starts with.
    return p.startsWith("**") || p.startsWith("{")
      ? undefined
      : `never matches: network targets are whole URLs like "https://host/path"; write e.g. ${JSON.stringify(`https://${p}${p.includes("/") || p.endsWith("**") ? "" : "/**"}`)}`;
  }
  if (!/[*?{}\\]/.test(p)) {
    const n = normalizeUrl(p);
    if (!n.ok) return `never matches: ${n.problem}`;
    return n.target === p
      ? undefined
      : `never matches: the URL normalises to ${JSON.stringify(n.target)}; write that (or ${JSON.stringify(`${n.target.replace(/\/$/, "")}/**`)})`;
  }
  const end = p.indexOf("/", sep + 3);
  const head = end < 0 ? p : p.slice(0, end);
  const authority = head.slice(sep + 3);
  if (!/[{}\\]/.test(head)) {
    if (authority.includes("**") && authority !== "**") {
      return 'puts "**" in the host, where it can run into the path (it crosses "/"); use "*", which stays within the host';
    }
    if (end < 0 && authority !== "**") {
      return `never matches: network targets always have a path (at least "/"); write ${JSON.stringify(`${p}/**`)} or ${JSON.stringify(`${p}/`)}`;
    }
    if (end >= 0) {
      const path = canonicalUrlPath(p.slice(end), true);
      if (!path.ok) return `never matches: such targets are refused (${path.problem})`;
      if (head + path.path !== p) {
        return `never matches: URL paths are compared as servers read them (escapes of plain characters decoded, the rest upper-case, non-ASCII as UTF-8 escapes); write ${JSON.stringify(head + path.path)}`;
      }
    }
  }
  // Check the scheme and host part when it is literal apart from "*".
  // Braces, "?", escapes, or a port/IPv6 next to a wildcard: too many spellings to check here.
  if (/[?{}\\]/.test(head) || (head.includes("*") && authority.includes(":"))) return undefined;
  const probe = `${head.replace(/\*+/g, "x")}/`;
  const n = normalizeUrl(probe);
  if (!n.ok) return `never matches: ${n.problem}`;
  if (n.target !== probe) {
    return "never matches: network targets have a lower-case scheme and host, no default port and no trailing dot in the host";
  }
  return undefined;
}
