import { errorText } from "@agentgate/core/internal";
import { DecisionType, type Decision, type GateKeeper, type ToolMapping } from "@agentgate/core";
import type {
  GenericToolApprovalFunction,
  ModelMessage,
  ToolApprovalConfiguration,
  ToolApprovalStatus,
  ToolSet,
} from "ai";
import { appVerdict, ownValue } from "./app-approval.js";
import { hasApprovalResponseFor } from "./approval-messages.js";
import { resolveContext, type GateContextResolver } from "./context.js";
import { reasonWithRetry } from "./denial.js";

/** Options for {@link gateToolApproval}. */
export interface GateToolApprovalOptions<TOOLS extends ToolSet = ToolSet, RUNTIME_CONTEXT = any> {
  /** Same mapping as {@link withGate}: tool name to gate action and target. */
  mapping?: ToolMapping;
  /** Extra context for each decision; receives the call's `runtimeContext`. A throw fails closed. */
  context?: GateContextResolver;
  /**
   * Your own `toolApproval` (a generic function or a per-tool map), composed with the gate:
   * a denial from either side ends the call without asking anyone; a human is asked once
   * when either side wants one; `not-applicable` from yours leaves an allowed call untouched.
   */
  toolApproval?: ToolApprovalConfiguration<TOOLS, RUNTIME_CONTEXT>;
}

/** The approval function {@link gateToolApproval} returns. */
export type GateToolApprovalFunction<
  TOOLS extends ToolSet = ToolSet,
  RUNTIME_CONTEXT = any,
> = GenericToolApprovalFunction<TOOLS, any, RUNTIME_CONTEXT>;

type ApprovalObjectStatus = Exclude<ToolApprovalStatus, string | undefined>;

/**
 * Builds a `toolApproval` function for `generateText`, `streamText` and `ToolLoopAgent`,
 * so the gate decides through the SDK's native approval channel:
 *
 * - ALLOW → `not-applicable` (the run's history is what it would be without the gate),
 *   or what your own `toolApproval` says (`approved`, `user-approval`).
 * - DENY → `{ type: "denied", reason }` (the model sees `execution-denied`).
 * - ESCALATE (no inline approval handler on the gate) → `{ type: "user-approval", reason }`,
 *   so the app shows the SDK's `tool-approval-request`.
 *
 * Your `toolApproval` is asked first, and its denial is audited by the gate as a DENY without
 * checking (so no ALLOW or open escalation is recorded for a call that never runs).
 *
 * When the app answers with a `tool-approval-response`, the SDK calls this function again
 * for that call. The answer only counts if the gate recorded it (see {@link recordApprovals}):
 * the message history is client-controlled and can be forged, so a call that is still
 * escalated in the gate is `denied`. Errors fail closed (`denied`, never `approved`).
 */
export function gateToolApproval<TOOLS extends ToolSet = ToolSet, RUNTIME_CONTEXT = any>(
  gate: GateKeeper,
  options: GateToolApprovalOptions<TOOLS, RUNTIME_CONTEXT> = {},
): GateToolApprovalFunction<TOOLS, RUNTIME_CONTEXT> {
  return async (call) => {
    const { toolCall, messages, runtimeContext, toolsContext, tools } = call;
    let toolName = "unknown";
    try {
      toolName = String(toolCall.toolName);
      const toolCallId = toolCall.toolCallId;
      const callId = typeof toolCallId === "string" && toolCallId !== "" ? { callId: toolCallId } : {};
      // The app's rule first: it is pure app code, and its DENY must not leave a gate ALLOW behind.
      const app = await appVerdict(options.toolApproval, { toolCall, tools, toolsContext, runtimeContext, messages });
      if (app.type === "denied") {
        gate.refuse("tool_use", `the app's toolApproval denied tool "${toolName}": ${app.reason}`, {
          target: toolName,
          code: "approval_error",
          ...callId,
        });
        return { type: "denied", reason: app.reason };
      }
      const answered = typeof toolCallId === "string" && hasApprovalResponseFor(messages, toolCallId);
      if (
        app.type === "user-approval" &&
        !answered &&
        policyWouldAllow(gate, toolName, toolCall.input, options.mapping)
      ) {
        // The app wants a human and the policy allows the call: ask now, let the gate decide
        // (and count) when the approved call comes back, so a "no" leaves no ALLOW on record.
        return app.reason === undefined ? { type: "user-approval" } : { type: "user-approval", reason: app.reason };
      }
      const toolContext = ownValue(toolsContext, toolName);
      const context = await resolveContext(options.context, {
        toolName,
        toolCallId,
        input: toolCall.input,
        ...(toolContext !== undefined ? { toolContext } : {}),
        runtimeContext,
      });
      const decision = await gate.checkToolCall({
        toolName,
        input: toolCall.input,
        callId: toolCallId,
        ...(options.mapping !== undefined ? { mapping: options.mapping } : {}),
        ...(context !== undefined ? { context } : {}),
      });
      switch (decision.type) {
        case DecisionType.ALLOW:
          return allowed(app, decision, answered);
        case DecisionType.ESCALATE:
          return escalated(decision, gate, messages, toolCallId);
        default:
          return { type: "denied", reason: reasonWithRetry(decision) };
      }
    } catch (error) {
      // Only user code can get here (a context resolver): recorded by the gate (audited) like any denial.
      const reason = `AgentGate could not check tool "${toolName}" (${errorText(error)}), so the call is denied`;
      const callId =
        typeof toolCall?.toolCallId === "string" && toolCall.toolCallId !== "" ? { callId: toolCall.toolCallId } : {};
      return { type: "denied", reason: gate.refuse("tool_use", reason, { target: toolName, ...callId }).reason };
    }
  };
}

function allowed(app: { type: string; reason?: string }, decision: Decision, answered: boolean): ApprovalObjectStatus {
  // A resumed call (its approval answered), or one a human approved through the gate's own
  // approval handler just now: anything but `denied` runs it, and nobody is asked again.
  if (answered || decision.code === "approved") return { type: "approved", reason: decision.reason };
  switch (app.type) {
    case "approved":
      return { type: "approved", reason: app.reason ?? decision.reason };
    case "user-approval":
      // Only when the policy could not be previewed (a rule that escalates by count): the gate
      // has allowed and counted the call; the app still wants its human.
      return app.reason === undefined ? { type: "user-approval" } : { type: "user-approval", reason: app.reason };
    default:
      // Nothing to say: no approval parts, so a gated run's history equals an ungated one.
      return { type: "not-applicable" };
  }
}

function escalated(
  decision: Decision,
  gate: GateKeeper,
  messages: ModelMessage[],
  toolCallId: string,
): ApprovalObjectStatus {
  // The SDK re-asks after a tool-approval-response. If the gate still shows the call as
  // escalated, nobody approved it through the gate: the response is not trusted.
  if (hasApprovalResponseFor(messages, toolCallId)) {
    return {
      type: "denied",
      reason: `the approval for this call was not recorded by AgentGate (escalation ${decision.escalationId ?? "unknown"} is still pending): ${decision.reason}`,
    };
  }
  if (gate.hasApprovalHandler) {
    // Core awaits its own handler, so ESCALATE here means something is off.
    return {
      type: "denied",
      reason: `AgentGate returned an unresolved escalation despite an approval handler: ${decision.reason}`,
    };
  }
  return { type: "user-approval", reason: decision.reason };
}

/**
 * The policy's static verdict for a call is ALLOW and no count can turn it into an
 * escalation. Side-effect free (no audit, no counters). Anything unclear is `false`,
 * which sends the call through the real check.
 */
function policyWouldAllow(
  gate: GateKeeper,
  toolName: string,
  input: unknown,
  mapping: ToolMapping | undefined,
): boolean {
  try {
    const entry = ownValue(mapping, toolName) as ToolMapping[string] | undefined;
    const action = entry === undefined ? "tool_use" : entry.action;
    const target = entry === undefined ? toolName : entry.target === undefined ? undefined : entry.target(input);
    if (typeof action !== "string" || (target !== undefined && typeof target !== "string")) return false;
    if (gate.policy.getRule(action)?.escalateAfter !== undefined) return false;
    return gate.policy.check(action, target) === "allow";
  } catch {
    return false;
  }
}
