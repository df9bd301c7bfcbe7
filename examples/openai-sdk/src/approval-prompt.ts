import type { ApprovalAnswer, ApprovalRequest } from "@agentgate/core";
import { createInterface } from "node:readline/promises";

/**
 * Asks the person at the terminal. Without a TTY (CI, a pipe) there is nobody
 * to ask, so it answers on its own and says so: "no" by default (fail
 * closed), "yes" when AGENTGATE_AUTO_APPROVE=1.
 */
export function terminalApproval(log: (line: string) => void) {
  return async (request: ApprovalRequest): Promise<ApprovalAnswer> => {
    const what = `${request.action}${request.target ? ` → ${request.target}` : ""} ${JSON.stringify(request.args ?? {})}`;
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      const approved = process.env.AGENTGATE_AUTO_APPROVE === "1";
      log(`  ? approval needed for ${what}`);
      log(
        `  ! stdin is not a terminal, so nobody can answer: auto-${approved ? "approving (AGENTGATE_AUTO_APPROVE=1)" : "rejecting (set AGENTGATE_AUTO_APPROVE=1 to approve)"}`,
      );
      return { approved, approvedBy: "auto (no TTY)", reason: approved ? "auto-approved: no TTY" : "auto-rejected: no TTY to ask" };
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      const answer = await rl.question(`  ? ${request.reason}\n    approve ${what}? [y/N] `);
      const approved = /^y(es)?$/i.test(answer.trim());
      return { approved, approvedBy: process.env.USER ?? "terminal", ...(approved ? {} : { reason: "rejected at the terminal" }) };
    } finally {
      rl.close();
    }
  };
}
