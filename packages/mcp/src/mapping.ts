import { readFileSync } from "node:fs";
import type { ActionName, PolicyIssue, ToolMapping } from "@agentgate/core";
import { isMap, isScalar, LineCounter, parseDocument, type Node } from "yaml";
import { MappingValidationError } from "./mapping-error.js";

/** How one MCP tool is checked: the action, and the argument whose value is the target (none: the action is checked without a target). */
export interface McpToolRule {
  action: ActionName;
  /** Name of the tool argument that holds the target (a path, a URL...). Without it the target is the tool name. */
  target?: string;
}

/** MCP tool name → rule, e.g. `{ write_file: { action: "file_write", target: "path" } }`. Unmapped tools are `tool_use` on the tool name. */
export type McpToolMapping = Readonly<Record<string, McpToolRule>>;

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/;
const RULE_KEYS = new Set(["action", "target"]);
const q = JSON.stringify;

/** Checks a mapping object; returns a prototype-free copy or throws `MappingValidationError` listing every problem. */
export function validateMapping(
  value: unknown,
  source?: string,
  lineOf: (path: (string | number)[]) => number | undefined = () => undefined,
): McpToolMapping {
  const issues: PolicyIssue[] = [];
  const issue = (path: (string | number)[], message: string) => {
    const line = lineOf(path);
    issues.push({ path: path.join("."), message, ...(line !== undefined ? { line } : {}) });
  };
  const out: Record<string, McpToolRule> = Object.create(null);
  if (value === null || value === undefined) return Object.freeze(out);
  if (typeof value !== "object" || Array.isArray(value))
    throw new MappingValidationError(
      [{ path: "", message: "a mapping must be an object of tool name → { action, target }" }],
      source,
    );
  // `tools:` wrapper is accepted so a mapping can share a file with comments/metadata later.
  const root =
    Object.keys(value).length === 1 && Object.hasOwn(value, "tools") ? (value as { tools: unknown }).tools : value;
  const prefix: string[] = root === value ? [] : ["tools"];
  if (typeof root !== "object" || root === null || Array.isArray(root)) {
    throw new MappingValidationError(
      [{ path: "tools", message: "must be an object of tool name → { action, target }" }],
      source,
    );
  }
  for (const [tool, rule] of Object.entries(root)) {
    const at = [...prefix, tool];
    if (!NAME.test(tool)) issue(at, `tool name ${q(tool)} has characters MCP tool names do not use`);
    if (typeof rule !== "object" || rule === null || Array.isArray(rule)) {
      issue(at, "must be { action, target? }");
      continue;
    }
    for (const k of Object.keys(rule))
      if (!RULE_KEYS.has(k)) issue([...at, k], `unknown key ${q(k)} (allowed: action, target)`);
    const { action, target } = rule as Record<string, unknown>;
    if (typeof action !== "string" || action.trim() === "")
      issue([...at, "action"], "action must be a non-empty string, e.g. file_write");
    if (target !== undefined && (typeof target !== "string" || target === ""))
      issue([...at, "target"], "target must be the name of one of the tool's arguments");
    if (typeof action === "string" && action.trim() !== "") {
      out[tool] = Object.freeze(typeof target === "string" && target !== "" ? { action, target } : { action });
    }
  }
  if (issues.length > 0) throw new MappingValidationError(issues, source);
  return Object.freeze(out);
}

/** Parses a YAML (or JSON) mapping; syntax and shape errors carry their line numbers. */
export function parseMapping(text: string, source?: string): McpToolMapping {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new MappingValidationError(
      doc.errors.map((e) => ({
        path: "",
        message: `YAML syntax: ${(e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`,
        ...(e.linePos?.[0] ? { line: e.linePos[0].line } : {}),
      })),
      source,
    );
  }
  const lineOf = (path: (string | number)[]): number | undefined => {
    // The deepest node that exists on the path: a missing key reports its parent's line.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      const range = node && (isMap(node) || isScalar(node) || "range" in node) ? node.range : undefined;
      if (range) {
        // A map's range starts at its first key; for a key's own line prefer the key node.
        const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : undefined;
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[n - 1]);
          if (pair && isScalar(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
        }
        return lines.linePos(range[0]).line;
      }
    }
    return undefined;
  };
  return validateMapping(doc.toJS({ maxAliasCount: 100 }), source, lineOf);
}

/** Reads and parses a mapping file. */
export function loadMapping(path: string): McpToolMapping {
  return parseMapping(readFileSync(path, "utf8"), path);
}

/**
 * The core `ToolMapping` for a checked MCP mapping. A mapped target argument that is
 * missing or not a string makes the target function throw, so the gate DENYs
 * (`invalid_target`) instead of checking the action without a target.
 */
export function toToolMapping(mapping: McpToolMapping): ToolMapping {
  const out: ToolMapping = Object.create(null);
  for (const [tool, rule] of Object.entries(mapping)) {
    const arg = rule.target;
    out[tool] =
      arg === undefined
        ? { action: rule.action }
        : {
            action: rule.action,
            target: (input: unknown) => {
              const value =
                typeof input === "object" && input !== null && Object.hasOwn(input, arg)
                  ? (input as Record<string, unknown>)[arg]
                  : undefined;
              if (typeof value !== "string")
                throw new Error(
                  `argument ${q(arg)} must be a string, got ${value === undefined ? "nothing" : value === null ? "null" : typeof value}`,
                );
              return value;
            },
          };
  }
  return out;
}

/**
 * True when the policy denies every call of the tool whatever its arguments,
 * so `tools/list` can hide it: an unmapped tool whose name is denied, or a
 * mapped tool whose action has no rule or a rule that does not allow it.
 */
export function deniesEveryCall(
  policy: {
    getRule(action: string): { allowed?: boolean } | undefined;
    check(action: string, target?: string): string;
  },
  tool: string,
  mapping: McpToolMapping,
): boolean {
  const rule = Object.hasOwn(mapping, tool) ? mapping[tool] : undefined;
  try {
    if (rule === undefined) return policy.check("tool_use", tool) === "deny";
    if (rule.target === undefined) return policy.check(rule.action) === "deny";
    const r = policy.getRule(rule.action);
    return r === undefined || r.allowed !== true;
  } catch {
    return true;
  }
}
