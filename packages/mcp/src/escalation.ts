import type { ApprovalHandler, ApprovalRequest, ApprovalResolution, Decision, GateKeeper } from "@agentgate/core";
import { normalizeApproval } from "@agentgate/core";
import { approvalRequestFor } from "@agentgate/core/internal";
import { isApprovalTimedOut } from "./inbox.js";

/** How an escalated call is answered: an answer, or a reason no one could answer. */
export type AskResult = { answer: ApprovalResolution } | { failure: string };

/** The approval request for an escalated decision, as an `ApprovalHandler` receives it. */
export function approvalRequest(gate: GateKeeper, decision: Decision, args: unknown): ApprovalRequest {
  return approvalRequestFor(gate.identity, decision, args);
}

/** Runs an `ApprovalHandler` with a timeout; anything odd is a failure, never an approval. */
export async function askHandler(
  handler: ApprovalHandler,
  request: ApprovalRequest,
  timeoutMs: number,
): Promise<AskResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const raw = await Promise.race([Promise.resolve().then(() => handler(structuredClone(request))), timeout]);
    if (raw === "timeout") return { failure: `approval timed out (no answer within ${timeoutMs} ms)` };
    const answer = normalizeApproval(raw);
    if (!answer.valid)
      return { failure: "the approval handler returned something other than a boolean or { approved: boolean }" };
    const { valid: _, ...resolution } = answer;
    return { answer: resolution };
  } catch (error) {
    // The inbox's own timeout says the same as ours: whichever timer fires first, the reason reads alike.
    if (isApprovalTimedOut(error)) return { failure: (error as Error).message };
    return { failure: `the approval handler failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
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
