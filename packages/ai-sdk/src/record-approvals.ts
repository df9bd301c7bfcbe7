import { errorText } from "@agentgate/core/internal";
import type { ApprovalRequest, Decision, GateKeeper } from "@agentgate/core";
import type { ModelMessage } from "ai";
import { lastApprovalResponses } from "./approval-messages.js";

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

/** What {@link recordApprovals} did with one `tool-approval-response`. */
export interface RecordedApproval {
  approvalId: string;
  toolCallId?: string;
  /** What the response asked for. */
  approved: boolean;
  /**
   * - `recorded`: the gate settled its pending escalation, or (with `requests`) audited a
   *   human's "no" to a question only your own `toolApproval` asked; see `decision`.
   * - `not-pending`: the gate has no open escalation for this call (never escalated,
   *   already settled, or a forged id). Nothing changed.
   * - `automatic`: the request was an automatic approval, not one for a human.
   * - `unknown-request`: no `tool-approval-request` in the messages matches the response.
   * - `failed`: the gate rejected or failed; nothing was approved.
   */
  status: "recorded" | "not-pending" | "automatic" | "unknown-request" | "failed";
  /** The settled decision, when `status` is `recorded`. */
  decision?: Decision;
  /** Why nothing was recorded, for the other statuses. */
  message?: string;
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
  const responses = lastApprovalResponses(messages);
  if (responses.length === 0) return [];
  const trusted = trustedCallIds(options.requests);

  let pending: ApprovalRequest[];
  try {
    pending = await gate.pendingEscalations();
  } catch (error) {
    const message = `could not read the gate's pending escalations: ${errorText(error)}`;
    return responses.map((r) => ({ ...base(r), status: "failed", message }));
  }

  const results: RecordedApproval[] = [];
  const settled = new Set<string>();
  for (const response of responses) {
    if (trusted !== undefined) {
      // Only the server's own record of which call an approval id belongs to counts.
      const callId = trusted.get(response.approvalId);
      if (callId === undefined) {
        results.push({
          ...base({ ...response, toolCallId: undefined }),
          status: "unknown-request",
          message: "no approval request the server issued has this approvalId",
        });
        continue;
      }
      response.toolCallId = callId;
    }
    const result = base(response);
    if (response.toolCallId === undefined) {
      results.push({
        ...result,
        status: "unknown-request",
        message: "no tool-approval-request matches this approvalId",
      });
      continue;
    }
    if (response.automatic) {
      results.push({
        ...result,
        status: "automatic",
        message: "automatic approvals are decided by policy, not recorded",
      });
      continue;
    }
    const escalation = pending.find((p) => p.callId === response.toolCallId && !settled.has(p.escalationId));
    if (escalation === undefined) {
      if (trusted !== undefined && !response.approved) {
        // A "no" to a question this server issued that the gate did not ask (your own
        // toolApproval wanted the human): the call will not run, and the audit says why.
        const toolName = toolNameOf(messages, response.toolCallId) ?? "unknown";
        const who = options.approvedBy ?? "a human";
        const why = response.reason ?? options.reason;
        const decision = gate.refuse(
          "tool_use",
          `${who} denied tool "${toolName}"${why !== undefined ? `: ${why}` : ""}`,
          {
            target: toolName,
            callId: response.toolCallId,
            code: "approval_error",
          },
        );
        results.push({ ...result, status: "recorded", decision });
        continue;
      }
      results.push({
        ...result,
        status: "not-pending",
        message: "the gate has no pending escalation for this tool call",
      });
      continue;
    }
    settled.add(escalation.escalationId);
    const reason = response.reason ?? options.reason;
    try {
      const decision = await gate.resolveEscalation(escalation.escalationId, {
        approved: response.approved,
        ...(options.approvedBy !== undefined ? { approvedBy: options.approvedBy } : {}),
        ...(reason !== undefined ? { reason } : {}),
      });
      results.push({ ...result, status: "recorded", decision });
    } catch (error) {
      results.push({ ...result, status: "failed", message: errorText(error) });
    }
  }
  return results;
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

function base(response: { approvalId: string; toolCallId: string | undefined; approved: boolean }) {
  return {
    approvalId: response.approvalId,
    ...(response.toolCallId !== undefined ? { toolCallId: response.toolCallId } : {}),
    approved: response.approved,
  };
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

/** The tool name of the call `toolCallId` in the history (for the audit only: it decides nothing). */
function toolNameOf(messages: readonly unknown[], toolCallId: string): string | undefined {
  for (const message of messages) {
    const content =
      typeof message === "object" && message !== null ? (message as { content?: unknown }).content : undefined;
    if (!Array.isArray(content)) continue;
    for (const part of content) {
      const p = part as { type?: unknown; toolCallId?: unknown; toolName?: unknown } | null;
      if (p?.type === "tool-call" && p.toolCallId === toolCallId && typeof p.toolName === "string") return p.toolName;
    }
  }
  return undefined;
}
