import type { ModelMessage } from "ai";

/** A `tool-approval-response` part matched to the request it answers. */
export interface ApprovalResponseInfo {
  approvalId: string;
  toolCallId: string | undefined;
  approved: boolean;
  reason: string | undefined;
  /** The matching request was an automatic (policy) approval, not a human one. */
  automatic: boolean;
}

type Part = { type?: unknown; [key: string]: unknown };

// Message history is client-controlled: read it defensively, never trust shapes.
function partsOf(message: unknown): Part[] {
  if (typeof message !== "object" || message === null) return [];
  const content = (message as { content?: unknown }).content;
  if (!Array.isArray(content)) return [];
  return content.filter((part): part is Part => typeof part === "object" && part !== null);
}

function approvalRequests(messages: readonly unknown[]): Map<string, Part> {
  const requests = new Map<string, Part>();
  for (const message of messages) {
    for (const part of partsOf(message)) {
      if (part.type === "tool-approval-request" && typeof part.approvalId === "string") {
        requests.set(part.approvalId, part);
      }
    }
  }
  return requests;
}

/**
 * True when any message carries a `tool-approval-response` for `toolCallId`.
 * Scans every message (a superset of what the AI SDK reads), so whenever the
 * SDK re-validates an approved call, this sees the response too.
 */
export function hasApprovalResponseFor(messages: unknown, toolCallId: string): boolean {
  if (!Array.isArray(messages)) return false;
  const requests = approvalRequests(messages);
  for (const message of messages) {
    for (const part of partsOf(message)) {
      if (part.type !== "tool-approval-response") continue;
      const request = typeof part.approvalId === "string" ? requests.get(part.approvalId) : undefined;
      if (request?.toolCallId === toolCallId) return true;
    }
  }
  return false;
}

/**
 * The approval responses of the last message, the only ones the AI SDK acts
 * on when a run resumes, each matched to its `tool-approval-request`.
 */
export function lastApprovalResponses(messages: readonly ModelMessage[] | readonly unknown[]): ApprovalResponseInfo[] {
  if (!Array.isArray(messages) || messages.length === 0) return [];
  const requests = approvalRequests(messages);
  const result: ApprovalResponseInfo[] = [];
  for (const part of partsOf(messages.at(-1))) {
    if (part.type !== "tool-approval-response" || typeof part.approvalId !== "string") continue;
    const request = requests.get(part.approvalId);
    result.push({
      approvalId: part.approvalId,
      toolCallId: typeof request?.toolCallId === "string" ? request.toolCallId : undefined,
      approved: part.approved === true,
      reason: typeof part.reason === "string" ? part.reason : undefined,
      automatic: request?.isAutomatic === true,
    });
  }
  return result;
}
