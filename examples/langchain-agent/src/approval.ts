import { createInterface } from "node:readline/promises";
import type { GateInterruptValue, GateResumeValue } from "@agentgate/langchain";

/** Decides one escalation; returns what the run is resumed with. */
export type Approver = (request: GateInterruptValue) => Promise<GateResumeValue>;

/**
 * Asks in the terminal when there is one. Without a TTY (CI, pipes) it answers
 * by itself and says so: approve, unless AGENTGATE_AUTO_ANSWER=reject.
 */
export function terminalApprover(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Approver {
  return async (request) => {
    const what = `${request.toolName}(${JSON.stringify(request.args)})`;
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      const approved = env.AGENTGATE_AUTO_ANSWER !== "reject";
      log(`  ? ${what} needs approval: ${request.reason}`);
      log(`    no terminal to ask in, so auto-${approved ? "approving" : "rejecting"} (set AGENTGATE_AUTO_ANSWER=${approved ? "reject" : "approve"} to change)`);
      return { approved, approvedBy: "auto-answer (no TTY)", reason: "no terminal to ask in", escalationId: request.escalationId };
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      const answer = await rl.question(`  ? ${what} needs approval: ${request.reason}\n    approve? [y/N] `);
      const approved = /^y(es)?$/i.test(answer.trim());
      return { approved, approvedBy: `terminal:${process.env.USER ?? "user"}`, escalationId: request.escalationId };
    } finally {
      rl.close();
    }
  };
}
