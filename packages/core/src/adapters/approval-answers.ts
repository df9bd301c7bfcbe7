import { errorText } from "../errors/error-text.js";
import type { ApprovalRequest } from "../gate/approval.js";
import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import { quote } from "../gate/tool-call.js";

/** One answer to an approval question, as an adapter read it from its framework's messages. */
export interface ApprovalAnswerInput {
  /** The framework's id of the question. */
  approvalId: string;
  /** Only `true` approves. */
  approved: unknown;
  reason?: string | undefined;
}

/** What a question asked about, as the (client-controlled) history says. */
export interface AskedApproval {
  callId: string | undefined;
  /** The framework approved automatically: no human was asked. */
  automatic: boolean;
}

/** Where {@link recordApprovalAnswers} finds the call each answer is about. */
export interface RecordApprovalAnswersOptions {
  /** Question id to what it asked, from the history. */
  asked: ReadonlyMap<string, AskedApproval>;
  /**
   * Question id to call id as the server issued them, kept server-side. When given, only these
   * match an answer to its call, so an edited history cannot aim an approval at another call.
   */
  trusted?: ReadonlyMap<string, string> | undefined;
  /** Who answered (the authenticated human or approval service). Stored on the decision. */
  approvedBy?: string | undefined;
  /** Fallback reason when an answer carries none. */
  reason?: string | undefined;
  /** The tool name of a call, for the audit of a "no" only (it decides nothing). */
  toolNameOf?: (callId: string) => string | undefined;
}

/**
 * - `recorded`: the gate settled its pending escalation, or (with `trusted`) audited a human's
 *   "no" to a question only the app asked; see `decision`.
 * - `not-pending`: the gate has no open escalation for the call (never escalated, already
 *   settled, or a forged id). Nothing changed.
 * - `automatic`: the question was an automatic approval, not one for a human.
 * - `unknown-request`: no question matches the answer.
 * - `failed`: the gate rejected or failed; nothing was approved.
 */
export type RecordedAnswerStatus = "recorded" | "not-pending" | "automatic" | "unknown-request" | "failed";

/** What {@link recordApprovalAnswers} did with one answer. */
export interface RecordedAnswer {
  approvalId: string;
  callId?: string;
  /** What the answer asked for. */
  approved: boolean;
  status: RecordedAnswerStatus;
  /** The settled decision, when `status` is `recorded`. */
  decision?: Decision;
  /** Why nothing was recorded, for the other statuses. */
  message?: string;
}

type AnswerGate = Pick<GateKeeper, "pendingEscalations" | "resolveEscalation" | "refuse">;

/**
 * Records trusted human answers with the gate: matches each to its call (through `trusted`
 * when given, else the history's questions), settles the gate's pending escalation for it,
 * and reports what happened to each. Never throws.
 */
export async function recordApprovalAnswers(
  gate: AnswerGate,
  answers: readonly ApprovalAnswerInput[],
  options: RecordApprovalAnswersOptions,
): Promise<RecordedAnswer[]> {
  if (answers.length === 0) return [];
  let pending: ApprovalRequest[] | undefined;
  let failure: string | undefined;
  try {
    pending = await gate.pendingEscalations();
  } catch (error) {
    failure = `could not read the gate's pending escalations: ${errorText(error)}`;
  }
  const settled = new Set<string>();
  const results: RecordedAnswer[] = [];
  for (const answer of answers) {
    const asked = options.asked.get(answer.approvalId);
    const callId = options.trusted === undefined ? asked?.callId : options.trusted.get(answer.approvalId);
    const result: RecordedAnswer = {
      approvalId: answer.approvalId,
      approved: answer.approved === true,
      status: "failed",
    };
    if (callId !== undefined) result.callId = callId;
    results.push(result);
    if (callId === undefined) {
      result.status = "unknown-request";
      result.message =
        options.trusted === undefined
          ? "no tool-approval-request matches this approvalId"
          : "no approval request the server issued has this approvalId";
    } else if (asked?.automatic === true) {
      result.status = "automatic";
      result.message = "automatic approvals are decided by policy, not recorded";
    } else if (pending === undefined) {
      result.message = failure;
    } else {
      const escalation = pending.find((p) => p.callId === callId && !settled.has(p.escalationId));
      if (escalation !== undefined) settled.add(escalation.escalationId);
      await settle(gate, result, callId, escalation, answer.reason ?? options.reason, options);
    }
  }
  return results;
}

async function settle(
  gate: AnswerGate,
  result: RecordedAnswer,
  callId: string,
  escalation: ApprovalRequest | undefined,
  reason: string | undefined,
  options: RecordApprovalAnswersOptions,
): Promise<void> {
  const { approvedBy } = options;
  if (escalation !== undefined) {
    try {
      result.decision = await gate.resolveEscalation(escalation.escalationId, {
        approved: result.approved,
        ...(approvedBy !== undefined ? { approvedBy } : {}),
        ...(reason !== undefined ? { reason } : {}),
      });
      result.status = "recorded";
    } catch (error) {
      result.message = errorText(error);
    }
  } else if (options.trusted !== undefined && !result.approved) {
    // A "no" to a question this server issued that the gate did not ask (the app's own rule
    // wanted the human): the call will not run, and the audit says why.
    const toolName = options.toolNameOf?.(callId) ?? "unknown";
    const why = reason === undefined ? "" : `: ${reason}`;
    result.decision = gate.refuse("tool_use", `${approvedBy ?? "a human"} denied tool ${quote(toolName)}${why}`, {
      target: toolName,
      callId,
      code: "approval_error",
    });
    result.status = "recorded";
  } else {
    result.status = "not-pending";
    result.message = "the gate has no pending escalation for this tool call";
  }
}
