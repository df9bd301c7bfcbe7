import { explainDecision, MAX_USES } from "../explain.js";
import { ExitCode, usageError } from "../errors.js";
import { formatExplanation } from "../format/explanation.js";
import { loadPolicy, parseCount, parseJsonOption } from "../load.js";
import { printJson, type CommandContext } from "./context.js";

export interface CheckCommandOptions {
  args?: string;
  uses?: string;
  json?: boolean;
}

/**
 * `agentgate check`: prints the decision and why. Exit 0 for ALLOW, 1 for
 * DENY or ESCALATE (like `kubectl auth can-i`), so scripts can branch on it.
 */
export async function runCheck(
  file: string,
  action: string,
  target: string | undefined,
  options: CheckCommandOptions,
  ctx: CommandContext,
): Promise<number> {
  if (action.trim() === "") throw usageError("action must be a non-empty string");
  const args = options.args !== undefined ? parseJsonOption(options.args, "--args") : undefined;
  const uses = options.uses !== undefined ? parseCount(options.uses, "--uses") : 0;
  if (uses > MAX_USES) throw usageError(`--uses must be at most ${MAX_USES}`);
  const policy = loadPolicy(file);
  const e = await explainDecision(policy, action, target, { ...(args !== undefined ? { args } : {}), uses });
  if (options.json) printJson(ctx, { policy: policy.name, ...e });
  else ctx.out(formatExplanation(e, { color: ctx.color }));
  return e.decision === "allow" ? ExitCode.OK : ExitCode.FINDING;
}
