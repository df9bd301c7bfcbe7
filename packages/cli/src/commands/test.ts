import type { DecisionCode, DecisionType, PermissionPolicy } from "@agentgate/core";
import { parseCases, type PolicyTestCase } from "../cases.js";
import { ExitCode } from "../errors.js";
import { explainDecision } from "../explain.js";
import { escapeControl } from "../format/escape.js";
import { createStyle, paintDecision } from "../format/style.js";
import { loadPolicy, parseYamlText, readInputFile } from "../load.js";
import { printJson, type CommandContext } from "./context.js";

/** The outcome of one case. */
export interface CaseResult {
  index: number;
  name: string;
  pass: boolean;
  expect: DecisionType;
  actual: DecisionType;
  code: DecisionCode;
  reason: string;
  ruleIndex?: number;
  fired?: string;
}

/** Which rules (and which of their fields) the cases made decide. */
export interface RuleCoverage {
  index: number;
  action: string;
  /** Cases whose decision came from this rule. */
  cases: number;
  /** Fields of the rule that decided at least one case. */
  fired: string[];
  /** Fields the rule sets that never decided a case. */
  unexercised: string[];
}

/** The result of `agentgate test`. */
export interface TestRunResult {
  ok: boolean;
  policy: string;
  total: number;
  passed: number;
  failed: number;
  results: CaseResult[];
  coverage?: { rules: RuleCoverage[]; uncovered: number[] };
}

/** Rule fields that can decide a case, as [camelCase, yaml name]. */
const DECIDING_FIELDS = [
  ["allowedTargets", "allowed_targets"],
  ["deniedTargets", "denied_targets"],
  ["escalateTargets", "escalate_targets"],
  ["requireApproval", "require_approval"],
  ["maxPerMinute", "max_per_minute"],
  ["escalateAfter", "escalate_after"],
  ["denyAfter", "deny_after"],
] as const;

function caseName(c: PolicyTestCase): string {
  return (
    c.name ??
    [c.action, c.target, c.uses ? `after ${c.uses} uses` : undefined, `-> ${c.expect}`].filter(Boolean).join(" ")
  );
}

/** Runs policy unit tests; each case is decided by a real gate (see `explainDecision`). */
export async function runPolicyTests(
  policy: PermissionPolicy,
  cases: readonly PolicyTestCase[],
  options: { coverage?: boolean } = {},
): Promise<TestRunResult> {
  const results: CaseResult[] = [];
  for (const [index, c] of cases.entries()) {
    const e = await explainDecision(policy, c.action, c.target, {
      ...(c.args !== undefined ? { args: c.args } : {}),
      uses: c.uses ?? 0,
    });
    const r: CaseResult = {
      index,
      name: caseName(c),
      pass: e.decision === c.expect,
      expect: c.expect,
      actual: e.decision,
      code: e.code,
      reason: e.reason,
    };
    if (e.ruleIndex !== undefined) r.ruleIndex = e.ruleIndex;
    if (e.fired !== undefined) r.fired = e.fired;
    results.push(r);
  }
  const failed = results.filter((r) => !r.pass).length;
  const out: TestRunResult = {
    ok: failed === 0,
    policy: policy.name,
    total: results.length,
    passed: results.length - failed,
    failed,
    results,
  };
  if (options.coverage) {
    const rules: RuleCoverage[] = policy.rules.map((rule, index) => {
      const mine = results.filter((r) => r.ruleIndex === index);
      const fired = [...new Set(mine.map((r) => r.fired).filter((f): f is string => f !== undefined))];
      const unexercised = DECIDING_FIELDS.filter(
        ([camel, yaml]) => rule[camel] !== undefined && rule[camel] !== false && !fired.includes(yaml),
      ).map(([, yaml]) => yaml);
      return { index, action: rule.action, cases: mine.length, fired, unexercised };
    });
    out.coverage = { rules, uncovered: rules.filter((r) => r.cases === 0).map((r) => r.index) };
  }
  return out;
}

/** Human-readable form of a test run: failures with the policy's reason, a summary, and coverage. */
export function formatTestRun(result: TestRunResult, options: { color?: boolean } = {}): string {
  const s = createStyle(options.color ?? false);
  const lines: string[] = [];
  for (const r of result.results) {
    if (r.pass) {
      lines.push(`${s.green("PASS")}  ${escapeControl(r.name)}`);
      continue;
    }
    lines.push(`${s.red(s.bold("FAIL"))}  ${escapeControl(r.name)}`);
    lines.push(
      `      expected ${paintDecision(s, r.expect)}, got ${paintDecision(s, r.actual)} (${r.code}${r.ruleIndex !== undefined ? `, rules[${r.ruleIndex}]` : ""})`,
    );
    lines.push(`      ${s.dim("policy said:")} ${escapeControl(r.reason)}`);
  }
  const summary = `${result.passed} passed, ${result.failed} failed, ${result.total} case${result.total === 1 ? "" : "s"}`;
  lines.push("", result.ok ? s.green(summary) : s.red(summary));
  if (result.coverage) {
    const { rules, uncovered } = result.coverage;
    lines.push("", `coverage: ${rules.length - uncovered.length} of ${rules.length} rules exercised`);
    for (const r of rules) {
      if (r.cases === 0) lines.push(`  ${s.yellow("no case")}      rules[${r.index}] ${r.action}`);
      else if (r.unexercised.length > 0)
        lines.push(`  ${s.yellow("never fired")}  rules[${r.index}] ${r.action}: ${r.unexercised.join(", ")}`);
    }
  }
  return lines.join("\n");
}

export async function runTest(
  policyFile: string,
  casesFile: string,
  options: { coverage?: boolean; json?: boolean },
  ctx: CommandContext,
): Promise<number> {
  const cases = parseCases(parseYamlText(readInputFile(casesFile, "cases file"), casesFile), casesFile);
  const policy = loadPolicy(policyFile);
  const result = await runPolicyTests(policy, cases, options);
  if (options.json) printJson(ctx, result);
  else ctx.out(formatTestRun(result, { color: ctx.color }));
  return result.ok ? ExitCode.OK : ExitCode.FINDING;
}
