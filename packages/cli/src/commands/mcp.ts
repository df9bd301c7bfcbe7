import { spawn } from "node:child_process";
import { CliError, ExitCode } from "../errors.js";
import type { CommandContext } from "./context.js";

const MISSING =
  "agentgate mcp runs the agentgate-mcp proxy from @agentgate/mcp, which is not installed here: npm install @agentgate/mcp (or run npx @agentgate/mcp ...)";

/**
 * `agentgate mcp ...`: runs `agentgate-mcp` (package `@agentgate/mcp`, found on PATH) with the
 * same arguments. stdio is inherited, so an MCP client talks to the proxy directly; the exit
 * code is the proxy's. Not a dependency of the CLI, so the CLI stays small.
 */
export function runMcp(args: readonly string[], ctx: CommandContext): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("agentgate-mcp", [...args], { stdio: "inherit", env: ctx.env });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    const done = () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      done();
      reject(error.code === "ENOENT" ? new CliError(MISSING, { exitCode: ExitCode.USAGE, kind: "usage" }) : error);
    });
    child.once("exit", (code) => {
      done();
      resolve(code ?? ExitCode.FINDING);
    });
  });
}
