import type { ApprovalAnswer, ApprovalRequest } from "@agentgate/core";
import { createInterface } from "node:readline/promises";

/**
 * Asks the person at the terminal. Without a TTY (CI, a pipe) nobody can answer,
 * so it answers by itself and says so: it rejects (fail closed) unless
 * AGENTGATE_AUTO_APPROVE=1, the same rule in every example.
 */
export function terminalApproval(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env) {
  return async (request: ApprovalRequest): Promise<ApprovalAnswer> => {
    const what = `${request.action}${request.target ? ` → ${request.target}` : ""} ${JSON.stringify(request.args ?? {})}`;
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      const approved = env.AGENTGATE_AUTO_APPROVE === "1";
      log(`  ? approval needed for ${what}`);
      log(`  ! ${noTerminalNote(approved)}`);
      const reason = approved ? "auto-approved: AGENTGATE_AUTO_APPROVE=1" : "auto-rejected: no terminal to ask";
      return { approved, approvedBy: "auto-answer (no TTY)", reason };
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      const answer = await rl.question(`  ? ${request.reason}\n    approve ${what}? [y/N] `);
      const approved = /^y(es)?$/i.test(answer.trim());
      return {
        approved,
        approvedBy: process.env.USER ?? "terminal",
        ...(approved ? {} : { reason: "rejected at the terminal" }),
      };
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
