import { createInterface } from "node:readline/promises";
import type { Printer } from "./print.ts";

/** What the person (or the no-terminal auto-answer) is asked about one escalated tool call. */
export interface ApprovalQuestion {
  toolName: string;
  input: unknown;
  /** The gate's reason for escalating. */
  reason: string | undefined;
}

export interface ApprovalAnswer {
  approved: boolean;
  reason?: string;
}

/** Answers approval questions; `approvedBy` is recorded on the gate's decision. */
export interface Approver {
  approvedBy: string;
  ask(question: ApprovalQuestion): Promise<ApprovalAnswer>;
}

/**
 * Asks at the terminal. Without one (CI, a pipe) nobody can answer, so it answers
 * by itself and says so: it rejects (fail closed) unless AGENTGATE_AUTO_APPROVE=1,
 * the same rule in every example.
 */
export function terminalApprover(
  out: Printer,
  stdin: NodeJS.ReadStream = process.stdin,
  env: NodeJS.ProcessEnv = process.env,
  stdout: { isTTY?: boolean } = process.stdout,
): Approver {
  if (!stdin.isTTY || !stdout.isTTY) {
    const approved = env.AGENTGATE_AUTO_APPROVE === "1";
    return {
      approvedBy: "auto-answer (no TTY)",
      ask: async (question) => {
        out.line(`  ${out.paint("yellow", "?")} approve ${describe(question)}`);
        out.line(`    ${out.paint("yellow", noTerminalNote(approved))}`);
        return approved
          ? { approved, reason: "auto-approved: AGENTGATE_AUTO_APPROVE=1" }
          : { approved, reason: "auto-rejected: no terminal to ask" };
      },
    };
  }
  return {
    approvedBy: process.env.USER ? `${process.env.USER} (terminal)` : "terminal user",
    ask: async (question) => {
      const rl = createInterface({ input: stdin, output: process.stdout });
      try {
        const answer = await rl.question(`  ${out.paint("yellow", "?")} approve ${describe(question)} [y/N] `);
        const approved = /^y(es)?$/i.test(answer.trim());
        return approved ? { approved } : { approved, reason: "rejected at the terminal" };
      } finally {
        rl.close();
      }
    },
  };
}

function describe(question: ApprovalQuestion): string {
  const why = question.reason ? `\n    (${question.reason})` : "";
  return `${question.toolName} ${JSON.stringify(question.input)}?${why}`;
}

/** What every example prints when it answers by itself. */
export function noTerminalNote(approved: boolean): string {
  return approved
    ? "no terminal to ask in, so auto-approving (AGENTGATE_AUTO_APPROVE=1)"
    : "no terminal to ask in, so auto-rejecting (set AGENTGATE_AUTO_APPROVE=1 to approve)";
}
