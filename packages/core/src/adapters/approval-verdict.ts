import { errorText } from "../errors/error-text.js";
import type { PermissionPolicy } from "../policy/permission-policy.js";
import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import type { MaybePromise } from "../gate/store.js";
import { isRefusal, quote, readToolCall, type ToolMapping } from "../gate/tool-call.js";
import { checkToolCallWithContext, refuseUnchecked, type CallContext } from "./tool-call-context.js";

/**
 * What a framework's approval hook answers for one tool call: run it without a word
 * (`not-applicable`), run it as approved, ask a human (`user-approval`), or refuse it.
 */
export type ApprovalVerdict =
  | { type: "not-applicable" }
  | { type: "approved" | "user-approval"; reason?: string }
  | { type: "denied"; reason: string };

/** One tool call as a framework's approval hook sees it, with the app's own rule for it. */
export interface ToolApprovalRequest {
  toolName: unknown;
  input: unknown;
  callId: unknown;
  mapping?: ToolMapping | undefined;
  /** Extra context for the gate's decision, resolved only when the gate is asked. */
  context?: CallContext | undefined;
  /**
   * The app's own approval rule for the call (a status string or `{ type, reason }`), asked first.
   * A throw, a rejection or an unknown status is the app refusing the call.
   */
  app?: () => MaybePromise<unknown>;
  /** How the app's rule is named in reasons (e.g. `toolApproval`). */
  appRule?: string;
  /**
   * The framework is asking again after an approval answer for this call in its history.
   * The history is client-controlled: the answer counts only if the gate settled it.
   * Read once, only when needed; a throw fails closed.
   */
  answered: () => boolean;
}

/**
 * The gate's verdict composed with the app's, for a framework's native approval hook:
 * a DENY from either side ends the call without asking anyone, and is audited (an app's
 * DENY without a gate check, so no ALLOW is recorded for a call that never runs); a human
 * is asked once when either side wants one; an allowed call nobody objects to is
 * `not-applicable`, so a gated run's history equals an ungated one. Never rejects.
 */
export async function decideToolApproval(gate: GateKeeper, request: ToolApprovalRequest): Promise<ApprovalVerdict> {
  const { toolName, input, callId, mapping } = request;
  const rule = request.appRule ?? "approval rule";
  const app = await appVerdict(request.app, rule);
  try {
    if (app.type === "denied") {
      const name = typeof toolName === "string" && toolName !== "" ? toolName : "unknown";
      gate.refuse("tool_use", `the app's ${rule} denied tool ${quote(name)}: ${app.reason}`, {
        target: name,
        code: "approval_error",
        ...(typeof callId === "string" && callId !== "" ? { callId } : {}),
      });
      return app;
    }
    const answered = request.answered();
    // The app wants a human and the policy allows the call: ask now, and let the gate decide (and
    // count) when the approved call comes back, so a "no" leaves no ALLOW on record.
    if (app.type === "user-approval" && !answered && wouldAllow(gate.policy, toolName, input, mapping)) return app;
    const call = { toolName: toolName as string, input, callId: callId as string | undefined, mapping };
    const decision = await checkToolCallWithContext(gate, call, request.context);
    if (decision.type === "allow") return allowed(app, decision, answered);
    if (decision.type === "escalate") return escalated(gate, decision, answered);
    return { type: "denied", reason: reasonWithRetry(decision) };
  } catch (error) {
    return { type: "denied", reason: refuseUnchecked(gate, toolName, callId, error).reason };
  }
}

/** Runs and reads the app's rule. Never throws: a failure or an unknown status is `denied`. */
async function appVerdict(app: (() => MaybePromise<unknown>) | undefined, rule: string): Promise<ApprovalVerdict> {
  let status: unknown;
  try {
    status = app === undefined ? undefined : await app();
  } catch (error) {
    return { type: "denied", reason: `your ${rule} failed (${errorText(error)}), so the call is denied` };
  }
  if (typeof status === "string") status = { type: status };
  if (status === undefined || status === null) return { type: "not-applicable" };
  const { type, reason: raw } = status as { type?: unknown; reason?: unknown };
  const reason = typeof raw === "string" ? raw : undefined;
  if (type === "denied") return { type, reason: reason ?? `your ${rule} denied the call` };
  if (type !== "not-applicable" && type !== "approved" && type !== "user-approval") {
    return {
      type: "denied",
      reason: `your ${rule} returned an unknown status (${String(type)}), so the call is denied`,
    };
  }
  return type === "not-applicable" || reason === undefined ? { type } : { type, reason };
}

function allowed(app: ApprovalVerdict, decision: Decision, answered: boolean): ApprovalVerdict {
  // A resumed call (its approval answered), or one a human approved through the gate's own
  // approval handler just now: anything but `denied` runs it, and nobody is asked again.
  if (answered || decision.code === "approved") return { type: "approved", reason: decision.reason };
  // `approved` keeps the app's own automatic approval; `user-approval` here means the policy could
  // not be previewed (a rule that escalates by count): the gate allowed and counted, the app still asks.
  if (app.type === "approved") return { type: "approved", reason: app.reason ?? decision.reason };
  return app.type === "user-approval" ? app : { type: "not-applicable" };
}

function escalated(gate: GateKeeper, decision: Decision, answered: boolean): ApprovalVerdict {
  // Asked again after an answer, and the gate still shows the call as escalated: nobody approved
  // it through the gate, so the answer in the (client-controlled) history is not trusted.
  if (answered) {
    return {
      type: "denied",
      reason: `the approval for this call was not recorded by AgentGate (escalation ${decision.escalationId ?? "unknown"} is still pending): ${decision.reason}`,
    };
  }
  // Core awaits its own handler, so ESCALATE here means something is off.
  if (gate.hasApprovalHandler) {
    return {
      type: "denied",
      reason: `AgentGate returned an unresolved escalation despite an approval handler: ${decision.reason}`,
    };
  }
  return { type: "user-approval", reason: decision.reason };
}

/**
 * The policy's static verdict for the mapped call is ALLOW and no count can turn it into an
 * escalation. Side-effect free (no audit, no counters); anything unclear is `false`, which
 * sends the call through the real check.
 */
function wouldAllow(policy: PermissionPolicy, toolName: unknown, input: unknown, mapping?: ToolMapping): boolean {
  try {
    const read = readToolCall({ toolName: toolName as string, input, mapping });
    if (isRefusal(read) || policy.getRule(read.action)?.escalateAfter !== undefined) return false;
    return policy.check(read.action, read.target) === "allow";
  } catch {
    return false;
  }
}

/** A denial's reason with the retry hint for rate limits. */
function reasonWithRetry(decision: Pick<Decision, "reason" | "retryAfterMs">): string {
  if (decision.retryAfterMs === undefined || /retry/i.test(decision.reason)) return decision.reason;
  return `${decision.reason} (retry after ${Math.ceil(decision.retryAfterMs / 1000)} s)`;
}
