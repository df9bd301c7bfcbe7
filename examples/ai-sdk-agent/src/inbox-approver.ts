import type { GateKeeper } from "@agentgate/core";
import { canonicalJson } from "@agentgate/core/internal";
import { waitForApproval } from "@agentgate/approvals";
import type { Approver } from "./approval-prompt.ts";
import type { Printer } from "./print.ts";

/**
 * Sends escalations to the approval inbox (`agentgate serve`) instead of the
 * terminal: the question is the gate's pending escalation in the shared store,
 * and the answer is whatever a signed-in approver clicks there.
 */
export function inboxApprover(
  gate: GateKeeper,
  out: Printer,
  inboxUrl = "http://127.0.0.1:8787",
  timeoutMs = 10 * 60_000,
): Approver {
  const wait = waitForApproval({ store: gate.store, timeoutMs });
  return {
    // The approver's own name is on the settled decision; this is only a fallback label.
    approvedBy: "approval inbox",
    ask: async (question) => {
      const input = canonicalJson(question.input ?? null);
      const pending = (await gate.pendingEscalations()).find(
        (p) => p.agent.id === gate.identity.id && canonicalJson(p.args ?? null) === input,
      );
      if (!pending) return { approved: false, reason: "no pending escalation found for this call" };
      out.line(
        `  ${out.paint("yellow", "?")} waiting for an answer in the inbox: ${inboxUrl}/#esc-${pending.escalationId}`,
      );
      try {
        const answer = await wait(pending);
        const a = typeof answer === "boolean" ? { approved: answer } : answer;
        out.line(`    ${a.approved ? "approved" : "denied"}${a.approvedBy ? ` by ${a.approvedBy}` : ""} in the inbox`);
        return { approved: a.approved };
      } catch (error) {
        return { approved: false, reason: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
