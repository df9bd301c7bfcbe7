import { errorText } from "../errors/error-text.js";
import { approvalRequestFor, normalizeApproval, type ApprovalHandler, type ApprovalRequest } from "../gate/approval.js";
import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import type { MaybePromise } from "../gate/store.js";
import type { ToolCall, ToolMapping } from "../gate/tool-call.js";

/**
 * False only when no check of this tool can come out ESCALATE (its action's rule never asks a
 * human): an adapter can then skip asking the gate before a framework's approval step and check
 * once, right before the tool runs. A mapping without a valid action is left to the gate to refuse.
 */
export function toolMayEscalate(gate: GateKeeper, toolName: string, mapping?: ToolMapping): boolean {
  const entry =
    mapping !== undefined && Object.prototype.hasOwnProperty.call(mapping, toolName) ? mapping[toolName] : undefined;
  const action = entry === undefined ? "tool_use" : entry?.action;
  return typeof action !== "string" || gate.policy.mayEscalate(action);
}

/** An answer a framework's own approval protocol gave for a call the gate escalated. */
export interface FrameworkAnswer {
  approved: boolean;
  /** Who answered, from the app (never from the agent). A throw refuses an approval; a rejection stands. */
  approvedBy?: () => MaybePromise<string | undefined>;
  /** Why, as the audit (and for a rejection, the model) reads it. */
  reason: string;
  /** How the framework gave it, for failure reasons, e.g. "state.approve()". */
  via: string;
}

/** The escalated call an answer is for: its ESCALATE decision, or its pending `ApprovalRequest`. */
export type EscalatedCall = Pick<Decision, "action" | "target" | "callId" | "escalationId">;

/**
 * Records in the gate an answer given through a framework's own approval protocol (e.g. the
 * OpenAI Agents SDK's `state.approve(item)` on a server-held run state), audited like any other.
 * Resolves the settled decision, or the one that won when another approver settled first.
 * Never rejects: an `approvedBy` or store failure is an audited DENY (`approval_error`).
 */
export async function recordFrameworkAnswer(
  gate: GateKeeper,
  escalated: EscalatedCall,
  answer: FrameworkAnswer,
): Promise<Decision> {
  const refuse = (reason: string) =>
    gate.refuse(escalated.action, reason, {
      ...(escalated.target !== undefined ? { target: escalated.target } : {}),
      ...(escalated.callId !== undefined ? { callId: escalated.callId } : {}),
      code: "approval_error",
    });
  if (escalated.escalationId === undefined) return refuse(`${answer.via} answered a call with no open escalation`);
  let approvedBy: string | undefined;
  try {
    approvedBy = answer.approvedBy ? await answer.approvedBy() : undefined;
  } catch (error) {
    if (answer.approved) return refuse(`the approvedBy option failed: ${errorText(error)}`);
  }
  try {
    return await gate.answerEscalation(escalated.escalationId, {
      approved: answer.approved,
      ...(typeof approvedBy === "string" && approvedBy !== "" ? { approvedBy } : {}),
      reason: answer.reason,
    });
  } catch (error) {
    return refuse(`could not record the answer given with ${answer.via}: ${errorText(error)}`);
  }
}

/**
 * Records a rejection a framework's approval protocol gave for a call it names by id (e.g. a
 * `RunState` resumed in another process): settles the call's open escalation when it is this
 * tool's (same action, and the tool's name as target unless a mapping says otherwise). Resolves
 * the settled decision, or undefined when nothing of this tool was pending. Never rejects.
 */
export async function recordFrameworkRejection(
  gate: GateKeeper,
  call: { toolName: string; callId: string; mapping?: ToolMapping | undefined },
  answer: (request: ApprovalRequest) => Omit<FrameworkAnswer, "approved">,
): Promise<Decision | undefined> {
  const { toolName, mapping } = call;
  const pending = await gate.pendingEscalationFor(call.callId).catch(() => undefined);
  const entry = mapping && Object.prototype.hasOwnProperty.call(mapping, toolName) ? mapping[toolName] : undefined;
  const ours = entry ? pending?.action === entry.action : pending?.action === "tool_use" && pending.target === toolName;
  return pending && ours ? recordFrameworkAnswer(gate, pending, { ...answer(pending), approved: false }) : undefined;
}

/** What {@link askAboutPausedCall} did with one tool call. */
export interface ApproverOutcome {
  /** The call's decision: the settled one when an approver was asked. */
  decision: Decision;
  /**
   * False when the gate had nothing to answer for this call (it allowed it without an
   * escalation): a framework pause for it came from somewhere else, e.g. the tool's own rule.
   */
  handled: boolean;
  /** What the approver was asked; absent when the call was not pending approval. */
  request?: ApprovalRequest;
}

/**
 * Checks a paused tool call and, when the gate escalated it, asks `decide` (an approval
 * handler: a throw is a rejection) and records the answer, as `resolveEscalation` does.
 * The request shows what the gate recorded for the call. When the escalation is gone from
 * the store meanwhile, the gate's own record decides. Never rejects.
 */
export async function askAboutPausedCall(
  gate: GateKeeper,
  call: ToolCall,
  decide: ApprovalHandler,
): Promise<ApproverOutcome> {
  const decision = await gate.checkToolCall(call);
  const escalationId = decision.escalationId;
  if (decision.type !== "escalate" || escalationId === undefined) {
    const answered = decision.code === "approved" || escalationId !== undefined || decision.approvedBy !== undefined;
    return { decision, handled: decision.type !== "allow" || answered };
  }
  let request: ApprovalRequest | undefined;
  try {
    const pending = decision.callId === undefined ? undefined : await gate.pendingEscalationFor(decision.callId);
    if (pending?.escalationId === escalationId) request = pending;
  } catch {
    // The decision carries everything the request needs.
  }
  request ??= approvalRequestFor(gate.identity, decision, call.input);
  let answer;
  try {
    answer = normalizeApproval(await decide(request));
  } catch (error) {
    answer = { approved: false, reason: `approval callback failed: ${errorText(error)}` };
  }
  try {
    return { decision: await gate.answerEscalation(escalationId, answer), handled: true, request };
  } catch {
    return { decision: await gate.checkToolCall(call), handled: true, request };
  }
}
