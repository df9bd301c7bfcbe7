import type { DecisionType } from "@agentgate/core";
import { MAX_USES } from "./explain.js";
import { usageError } from "./errors.js";

/** One policy unit test. */
export interface PolicyTestCase {
  name?: string;
  action: string;
  target?: string;
  args?: unknown;
  /** How many allowed uses came before (to test thresholds and rate limits). */
  uses?: number;
  expect: DecisionType;
}

const CASE_KEYS = new Set(["name", "action", "target", "args", "uses", "expect"]);
const EXPECT = new Set(["allow", "deny", "escalate"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks the shape of a parsed cases file: `{ cases: [...] }` (or a bare list).
 * Every problem is listed; any problem is a usage error (exit 2).
 */
export function parseCases(data: unknown, source: string): PolicyTestCase[] {
  const list = Array.isArray(data) ? data : isObject(data) ? data.cases : undefined;
  if (isObject(data)) {
    const extra = Object.keys(data).filter((k) => k !== "cases");
    if (extra.length > 0)
      throw usageError(`${source}: unknown top-level key ${JSON.stringify(extra[0])} (expected "cases")`);
  }
  if (!Array.isArray(list)) throw usageError(`${source}: expected "cases:" with a list of test cases`);
  if (list.length === 0) throw usageError(`${source}: "cases" is empty; a test run with no cases proves nothing`);
  const problems: string[] = [];
  const cases: PolicyTestCase[] = [];
  list.forEach((raw, i) => {
    const at = `cases[${i}]`;
    if (!isObject(raw)) {
      problems.push(`${at}: must be a mapping with action and expect`);
      return;
    }
    for (const k of Object.keys(raw))
      if (!CASE_KEYS.has(k))
        problems.push(`${at}.${k}: unknown key (expected name, action, target, args, uses, expect)`);
    const { name, action, target, args, uses, expect } = raw;
    if (name !== undefined && typeof name !== "string") problems.push(`${at}.name: must be a string`);
    if (typeof action !== "string" || action.trim() === "") problems.push(`${at}.action: required, a non-empty string`);
    if (target !== undefined && target !== null && typeof target !== "string")
      problems.push(`${at}.target: must be a string`);
    if (
      uses !== undefined &&
      (typeof uses !== "number" || !Number.isSafeInteger(uses) || uses < 0 || uses > MAX_USES)
    ) {
      problems.push(`${at}.uses: must be a whole number from 0 to ${MAX_USES}`);
    }
    if (typeof expect !== "string" || !EXPECT.has(expect))
      problems.push(`${at}.expect: required, one of allow, deny, escalate`);
    const c: PolicyTestCase = { action: action as string, expect: expect as DecisionType };
    if (typeof name === "string") c.name = name;
    if (typeof target === "string") c.target = target;
    if (args !== undefined) c.args = args;
    if (typeof uses === "number") c.uses = uses;
    cases.push(c);
  });
  if (problems.length > 0) {
    throw usageError(
      `invalid cases file ${source} (${problems.length} problem${problems.length === 1 ? "" : "s"})`,
      problems.map((p) => `${source}: ${p}`),
    );
  }
  return cases;
}
