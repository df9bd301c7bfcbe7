import { createInterface } from "node:readline/promises";
import type { GateInterruptValue, GateResumeValue } from "@agentgate/langchain";

/** Decides one escalation; returns what the run is resumed with. */
export type Approver = (request: GateInterruptValue) => Promise<GateResumeValue>;

/**
 * Asks in the terminal when there is one. Without a TTY (CI, pipes) nobody can
 * answer, so it answers by itself and says so: it rejects (fail closed) unless
 * AGENTGATE_AUTO_APPROVE=1, the same rule in every example.
 */
export function terminalApprover(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Approver {
  return async (request) => {
    const what = `${request.toolName}(${JSON.stringify(request.args)})`;
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      const approved = env.AGENTGATE_AUTO_APPROVE === "1";
      log(`  ? ${what} needs approval: ${request.reason}`);
      log(`    ${noTerminalNote(approved)}`);
      const reason = approved ? "auto-approved: AGENTGATE_AUTO_APPROVE=1" : "auto-rejected: no terminal to ask";
      return { approved, approvedBy: "auto-answer (no TTY)", reason, escalationId: request.escalationId };
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

/** What every example prints when it answers by itself. */
export function noTerminalNote(approved: boolean): string {
  return approved
    ? "no terminal to ask in, so auto-approving (AGENTGATE_AUTO_APPROVE=1)"
    : "no terminal to ask in, so auto-rejecting (set AGENTGATE_AUTO_APPROVE=1 to approve)";
}
