import { approvalRequestFor, type ApprovalRequest } from "../gate/approval.js";
import type { Decision } from "../gate/decision.js";
import type { ToolCall } from "../gate/tool-call.js";

/** One action a human reviews, as in LangChain's human-in-the-loop `HITLRequest`. */
export interface HitlActionRequest {
  name: string;
  args: Record<string, unknown>;
  description: string;
}

/** What a human may answer, as in LangChain's `HITLRequest`. */
export interface HitlReviewConfig {
  actionName: string;
  allowedDecisions: ("approve" | "edit" | "reject")[];
}

/**
 * What a run paused for a human asks: the approver's request for one escalated tool call, in the
 * human-in-the-loop shape (`actionRequests`/`reviewConfigs`, one action: this call) that existing
 * approval UIs answer. JSON-serialisable.
 */
export interface PausedCallQuestion extends ApprovalRequest {
  actionRequests: [HitlActionRequest];
  reviewConfigs: [HitlReviewConfig];
  callId: string;
  toolName: string;
  args: unknown;
}

/** The question for `escalation`, raised by checking `call`. */
export function pausedCallQuestion(call: ToolCall & { callId: string }, escalation: Decision): PausedCallQuestion {
  const { toolName, input } = call;
  let shown: string;
  try {
    shown = JSON.stringify(input, null, 2) ?? String(input);
  } catch {
    shown = "(arguments not serialisable)";
  }
  const args = typeof input === "object" && input !== null && !Array.isArray(input) ? input : { input };
  const description = `AgentGate: ${escalation.reason}\n\nTool: ${toolName}\nArgs: ${shown}`;
  return {
    ...approvalRequestFor({ id: escalation.agentId, name: escalation.agentName }, escalation, undefined),
    callId: call.callId,
    toolName,
    args: input,
    actionRequests: [{ name: toolName, args: args as Record<string, unknown>, description }],
    reviewConfigs: [{ actionName: toolName, allowedDecisions: ["approve", "edit", "reject"] }],
  };
}
