import { PermissionPolicy, PolicyValidationError, type PolicyIssue } from "@agentgate/core";
import { ExitCode } from "../errors.js";
import { formatIssue, readInputFile } from "../load.js";
import { escapeControl } from "../format/escape.js";
import { createStyle } from "../format/style.js";
import { printJson, type CommandContext } from "./context.js";

/** The result of `agentgate validate`. */
export type ValidateResult =
  | { ok: true; file: string; policy: string; rules: { index: number; action: string; allowed: boolean }[] }
  | { ok: false; file: string; issues: PolicyIssue[] };

/** Validates a policy file. Unreadable files throw a usage error; invalid policies are a result. */
export function validatePolicyFile(file: string): ValidateResult {
  const text = readInputFile(file, "policy file");
  try {
    const policy = PermissionPolicy.parse(text, file);
    return {
      ok: true,
      file,
      policy: policy.name,
      rules: policy.rules.map((r, index) => ({ index, action: r.action, allowed: r.allowed === true })),
    };
  } catch (error) {
    if (PolicyValidationError.isInstance(error))
      return { ok: false, file, issues: error.issues.map((i) => ({ ...i })) };
    throw error;
  }
}

/** Human-readable form of a validation result. */
export function formatValidateResult(result: ValidateResult, options: { color?: boolean } = {}): string {
  const s = createStyle(options.color ?? false);
  if (result.ok) {
    const n = result.rules.length;
    const actions = result.rules.map((r) => (r.allowed ? r.action : `${r.action} (denied)`)).join(", ");
    return `${s.green("valid")}  ${escapeControl(`${result.file}: policy "${result.policy}", ${n} rule${n === 1 ? "" : "s"}${n ? `: ${actions}` : ""}`)}`;
  }
  const n = result.issues.length;
  return [
    `${s.red("invalid")}  ${escapeControl(result.file)}: ${n} problem${n === 1 ? "" : "s"}`,
    ...result.issues.map((i) => `  ${escapeControl(formatIssue(i, result.file))}`),
  ].join("\n");
}

export function runValidate(file: string, options: { json?: boolean }, ctx: CommandContext): number {
  const result = validatePolicyFile(file);
  if (options.json) printJson(ctx, result);
  else ctx.out(formatValidateResult(result, { color: ctx.color }));
  return result.ok ? ExitCode.OK : ExitCode.FINDING;
}
