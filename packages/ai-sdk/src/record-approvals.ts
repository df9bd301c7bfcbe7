import type { GateKeeper } from "@agentgate/core";
import { recordApprovalAnswers, type RecordedAnswer } from "@agentgate/core/internal";
import type { ModelMessage } from "ai";
import { readApprovalParts } from "./approval-messages.js";

/** Options for {@link recordApprovals}. */
export interface RecordApprovalsOptions {
  /** Who answered (the authenticated human or approval service). Stored on the decision. */
  approvedBy?: string;
  /** Fallback reason when a response carries none. */
  reason?: string;
  /**
   * The approval requests your server issued, kept server-side (e.g. the
   * `tool-approval-request` parts of the previous `result.content`). When given,
   * each response is matched to its call through these only, never through the
   * history the client sent back, so an edited history cannot aim a human's
   * approval of one call at another.
   */
  requests?: readonly TrustedApprovalRequest[];
}

/** An approval request as the server saw it: a result part (`toolCall.toolCallId`) or a message part (`toolCallId`). */
export type TrustedApprovalRequest =
  | { approvalId: string; toolCall: { toolCallId: string } }
  | { approvalId: string; toolCallId: string };

/** What {@link recordApprovals} did with one `tool-approval-response` (see core's `RecordedAnswerStatus` for `status`). */
export interface RecordedApproval extends Omit<RecordedAnswer, "callId"> {
  toolCallId?: string;
}

/**
 * Records the human answers in `messages` with the gate, before the app resumes the run.
 * Reads the `tool-approval-response` parts of the last message (the ones the AI SDK acts
 * on), finds the gate's pending escalation for each call and settles it with
 * `gate.resolveEscalation`. {@link gateToolApproval} then approves exactly the calls the
 * gate settled as ALLOW, and denies any other response.
 *
 * Call it only with answers from a trusted approver (your authenticated UI or terminal):
 * this is the step that turns a response into an approval. It never throws for bad
 * messages; each response gets a status.
 *
 * @throws TypeError when given UI messages (`useChat`'s `{ parts }` shape) instead of model
 * messages: their answers would be silently missed. Convert them with `convertToModelMessages`.
 */
export async function recordApprovals(
  messages: readonly ModelMessage[],
  gate: GateKeeper,
  options: RecordApprovalsOptions = {},
): Promise<RecordedApproval[]> {
  assertModelMessages(messages);
  const { asked, answers, toolNames } = readApprovalParts(messages);
  const recorded = await recordApprovalAnswers(gate, answers, {
    asked,
    trusted: trustedCallIds(options.requests),
    approvedBy: options.approvedBy,
    reason: options.reason,
    toolNameOf: (callId) => toolNames.get(callId),
  });
  return recorded.map(({ callId, ...result }) => (callId === undefined ? result : { ...result, toolCallId: callId }));
}

function trustedCallIds(requests: readonly TrustedApprovalRequest[] | undefined): Map<string, string> | undefined {
  if (requests === undefined) return undefined;
  const map = new Map<string, string>();
  for (const r of Array.isArray(requests) ? requests : []) {
    if (typeof r !== "object" || r === null || typeof r.approvalId !== "string") continue;
    const callId = "toolCall" in r ? r.toolCall?.toolCallId : r.toolCallId;
    if (typeof callId === "string") map.set(r.approvalId, callId);
  }
  return map;
}

/** UI messages read as model messages hold no approval responses: say so instead of recording nothing. */
function assertModelMessages(messages: unknown): void {
  if (!Array.isArray(messages)) return;
  const ui = messages.some(
    (m) => typeof m === "object" && m !== null && Array.isArray((m as { parts?: unknown }).parts) && !("content" in m),
  );
  if (ui) {
    throw new TypeError(
      "recordApprovals expects model messages, but got UI messages (objects with `parts`, as useChat sends them). " +
        "Convert them first: `const modelMessages = await convertToModelMessages(uiMessages, { tools })`, then pass modelMessages.",
    );
  }
}
