import { createInterface } from "node:readline/promises";
import type { Printer } from "./print.ts";

/** What the person (or the auto-approver) is asked about one escalated tool call. */
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
 * Asks at the terminal when stdin is a TTY. Otherwise (CI, a pipe, `npm run demo`
 * under a script) nobody can answer, so it approves on its own and says so.
 */
export function terminalApprover(out: Printer, stdin: NodeJS.ReadStream = process.stdin): Approver {
  if (!stdin.isTTY) {
    return {
      approvedBy: "auto-approver (no TTY)",
      ask: async (question) => {
        out.line(`  ${out.paint("yellow", "?")} approve ${describe(question)}`);
        out.line(`    ${out.paint("yellow", "stdin is not a terminal, so the demo answers by itself: approved")}`);
        return { approved: true, reason: "auto-approved: no terminal to ask" };
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
