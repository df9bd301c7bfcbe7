import type { ApprovalHandler, ApprovalRequest, ApprovalResolution, Decision, GateKeeper } from "@agentgate/core";
import { approvalRequestFor, askApprover } from "@agentgate/core/internal";
import { isApprovalTimedOut } from "./inbox.js";

/** How an escalated call is answered: an answer, or a reason no one could answer. */
export type AskResult = { answer: ApprovalResolution } | { failure: string };

/** The approval request for an escalated decision, as an `ApprovalHandler` receives it. */
export function approvalRequest(gate: GateKeeper, decision: Decision, args: unknown): ApprovalRequest {
  return approvalRequestFor(gate.identity, decision, args);
}

/** Runs an `ApprovalHandler` with a timeout, as the gate does (core's `askApprover`); anything odd is a failure, never an approval. */
export function askHandler(handler: ApprovalHandler, request: ApprovalRequest, timeoutMs: number): Promise<AskResult> {
  // Worded as the inbox's own timeout, which races this timer (same limit): either way the reason reads alike.
  const timedOut = `approval timed out (no answer within ${timeoutMs} ms)`;
  return askApprover(handler, request, { timeoutMs, timedOut, failed: inboxAwareFailure });
}

/** The inbox's own timeout already says "approval timed out (...)": keep its words, without a "handler failed" prefix. */
function inboxAwareFailure(error: unknown): string | undefined {
  return isApprovalTimedOut(error) ? (error as Error).message : undefined;
}

/**
 * Settles an ESCALATE decision with an answer (the settled decision, audited by
 * the gate), or records a DENY saying why no answer came. Never returns ALLOW
 * unless the gate recorded the approval.
 */
export async function settle(gate: GateKeeper, decision: Decision, result: AskResult): Promise<Decision> {
  if ("answer" in result) {
    try {
      return await gate.resolveEscalation(decision.escalationId!, result.answer);
    } catch (error) {
      return gate.refuse(
        decision.action,
        `the approval could not be recorded: ${error instanceof Error ? error.message : String(error)}`,
        refuseOptions(decision),
      );
    }
  }
  return gate.refuse(
    decision.action,
    `human approval required (${decision.reason}), but ${result.failure}`,
    refuseOptions(decision),
  );
}

function refuseOptions(decision: Decision) {
  return {
    code: "approval_error" as const,
    ...(decision.target !== undefined ? { target: decision.target } : {}),
    ...(decision.callId !== undefined ? { callId: decision.callId } : {}),
  };
}

/** The reason given when nobody can approve: what was needed and how to configure an approver. */
export const NO_APPROVER =
  "no approver is configured: this MCP client does not support elicitation and no approval handler is set. " +
  "To approve such calls, use a client that supports MCP elicitation, or give gateMcpClient/gateMcpServer/the proxy an approvalHandler " +
  "(the approvals inbox with --store), or change the policy";
