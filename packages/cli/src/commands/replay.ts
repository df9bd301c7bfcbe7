import { loadAuditEntries } from "../audit-file.js";
import { ExitCode } from "../errors.js";
import { formatReplayResult } from "../format/replay.js";
import { loadPolicy } from "../load.js";
import { replayDecisions } from "../replay.js";
import { printJson, type CommandContext } from "./context.js";

/** `agentgate replay`: exit 1 when any past decision would become ALLOW that was not. */
export async function runReplay(
  policyFile: string,
  auditFile: string,
  options: { json?: boolean },
  ctx: CommandContext,
): Promise<number> {
  const policy = loadPolicy(policyFile);
  const entries = await loadAuditEntries(auditFile);
  const result = replayDecisions(policy, entries);
  if (options.json) printJson(ctx, { file: auditFile, ...result });
  else ctx.out(formatReplayResult(result, { color: ctx.color, align: ctx.tty, file: auditFile }));
  return result.ok ? ExitCode.OK : ExitCode.FINDING;
}
