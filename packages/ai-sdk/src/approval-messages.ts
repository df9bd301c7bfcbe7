import type { ApprovalAnswerInput, AskedApproval } from "@agentgate/core/internal";

/** The approval parts of a model-message history. */
export interface ApprovalParts {
  /** The `tool-approval-request` parts: approval id to the call it asked about. */
  asked: Map<string, AskedApproval>;
  /** The `tool-approval-response` parts of the last message, the only ones the AI SDK acts on when a run resumes. */
  answers: ApprovalAnswerInput[];
  /** The call ids any `tool-approval-response` in the history answers (a superset of what the SDK reads). */
  answeredCalls: Set<string>;
  /** The `tool-call` parts: call id to tool name. */
  toolNames: Map<string, string>;
}

type Part = { type?: unknown; [key: string]: unknown };

/** Reads the approval parts of a history. It is client-controlled: shapes are never trusted. */
export function readApprovalParts(messages: unknown): ApprovalParts {
  const found: ApprovalParts = { asked: new Map(), answers: [], answeredCalls: new Set(), toolNames: new Map() };
  if (!Array.isArray(messages)) return found;
  const responses: string[] = [];
  messages.forEach((message, index) => {
    const content = typeof message === "object" && message !== null ? (message as { content?: unknown }).content : [];
    for (const part of Array.isArray(content) ? (content as (Part | null)[]) : []) {
      if (typeof part !== "object" || part === null) continue;
      const { type, approvalId, toolCallId } = part;
      if (type === "tool-call" && typeof toolCallId === "string" && typeof part.toolName === "string") {
        if (!found.toolNames.has(toolCallId)) found.toolNames.set(toolCallId, part.toolName);
      }
      if (typeof approvalId !== "string") continue;
      if (type === "tool-approval-request") {
        const callId = typeof toolCallId === "string" ? toolCallId : undefined;
        found.asked.set(approvalId, { callId, automatic: part.isAutomatic === true });
      } else if (type === "tool-approval-response") {
        responses.push(approvalId);
        if (index !== messages.length - 1) continue;
        const reason = typeof part.reason === "string" ? part.reason : undefined;
        found.answers.push({ approvalId, approved: part.approved === true, reason });
      }
    }
  });
  for (const approvalId of responses) {
    const callId = found.asked.get(approvalId)?.callId;
    if (callId !== undefined) found.answeredCalls.add(callId);
  }
  return found;
}
