import { DecisionType, type Decision, type GateKeeper, type ToolMapping } from "@agentgate/core";
import type {
  GenericToolApprovalFunction,
  ModelMessage,
  ToolApprovalConfiguration,
  ToolApprovalStatus,
  ToolSet,
  TypedToolCall,
} from "ai";
import { hasApprovalResponseFor } from "./approval-messages.js";
import { describeError, resolveContext, type GateContextResolver } from "./context.js";
import { reasonWithRetry } from "./denial.js";

/** Options for {@link gateToolApproval}. */
export interface GateToolApprovalOptions<TOOLS extends ToolSet = ToolSet, RUNTIME_CONTEXT = any> {
  /** Same mapping as {@link withGate}: tool name to gate action and target. */
  mapping?: ToolMapping;
  /** Extra context for each decision; receives the call's `runtimeContext`. A throw fails closed. */
  context?: GateContextResolver;
  /**
   * Your own `toolApproval` (a generic function or a per-tool map). The gate decides
   * first; yours only runs when the gate allows the call, and may still deny it or ask
   * a human. If it returns nothing (`not-applicable`) the call is approved.
   */
  toolApproval?: ToolApprovalConfiguration<TOOLS, RUNTIME_CONTEXT>;
}

/** The approval function {@link gateToolApproval} returns. */
export type GateToolApprovalFunction<TOOLS extends ToolSet = ToolSet, RUNTIME_CONTEXT = any> =
  GenericToolApprovalFunction<TOOLS, any, RUNTIME_CONTEXT>;

type ApprovalObjectStatus = Exclude<ToolApprovalStatus, string | undefined>;

/**
 * Builds a `toolApproval` function for `generateText`, `streamText` and `ToolLoopAgent`,
 * so the gate decides through the SDK's native approval channel:
 *
 * - ALLOW → `approved`
 * - DENY → `{ type: "denied", reason }` (the model sees `execution-denied`)
 * - ESCALATE (no inline approval handler on the gate) → `{ type: "user-approval", reason }`,
 *   so the app shows the SDK's `tool-approval-request`.
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
        case DecisionType.ALLOW: {
          const status =
            options.toolApproval === undefined
              ? ({ type: "approved", reason: decision.reason } as const)
              : await userApproval(options.toolApproval, { toolCall, tools, toolsContext, runtimeContext, messages }, decision);
          return status;
        }
        case DecisionType.ESCALATE:
          return escalated(decision, gate, messages, toolCallId);
        default:
          return { type: "denied", reason: reasonWithRetry(decision) };
      }
    } catch (error) {
      // Only user code can get here (a context resolver, toolApproval): recorded by the gate (audited) like any denial.
      const reason = `AgentGate could not check tool "${toolName}" (${describeError(error)}), so the call is denied`;
      const callId = typeof toolCall?.toolCallId === "string" && toolCall.toolCallId !== "" ? { callId: toolCall.toolCallId } : {};
      return { type: "denied", reason: gate.refuse("tool_use", reason, { target: toolName, ...callId }).reason };
    }
  };
}

function escalated(decision: Decision, gate: GateKeeper, messages: ModelMessage[], toolCallId: string): ApprovalObjectStatus {
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
    return { type: "denied", reason: `AgentGate returned an unresolved escalation despite an approval handler: ${decision.reason}` };
  }
  return { type: "user-approval", reason: decision.reason };
}

async function userApproval<TOOLS extends ToolSet, RUNTIME_CONTEXT>(
  configuration: ToolApprovalConfiguration<TOOLS, RUNTIME_CONTEXT>,
  call: {
    toolCall: TypedToolCall<TOOLS>;
    tools: TOOLS | undefined;
    toolsContext: any;
    runtimeContext: RUNTIME_CONTEXT;
    messages: ModelMessage[];
  },
  decision: Decision,
): Promise<ApprovalObjectStatus> {
  let status: ToolApprovalStatus;
  try {
    if (typeof configuration === "function") {
      status = await configuration(call);
    } else {
      const entry = ownValue(configuration, call.toolCall.toolName) as
        | ToolApprovalStatus
        | ((input: unknown, options: Record<string, unknown>) => ToolApprovalStatus | PromiseLike<ToolApprovalStatus>)
        | undefined;
      status =
        typeof entry === "function"
          ? await entry(call.toolCall.input, {
              toolCallId: call.toolCall.toolCallId,
              messages: call.messages,
              toolContext: ownValue(call.toolsContext, call.toolCall.toolName),
              runtimeContext: call.runtimeContext,
            })
          : entry;
    }
  } catch (error) {
    return { type: "denied", reason: `your toolApproval failed (${describeError(error)}), so the call is denied` };
  }
  const normalized: unknown = typeof status === "string" ? { type: status } : status;
  if (normalized === undefined || normalized === null) return { type: "approved", reason: decision.reason };
  const type = (normalized as { type?: unknown }).type;
  const reason = (normalized as { reason?: unknown }).reason;
  switch (type) {
    case "not-applicable":
      return { type: "approved", reason: decision.reason };
    case "approved":
    case "denied":
    case "user-approval":
      return typeof reason === "string" ? { type, reason } : { type };
    default:
      return { type: "denied", reason: `your toolApproval returned an unknown status (${String(type)}), so the call is denied` };
  }
}

// Tool names can come from model output or client history: read own properties only.
function ownValue(object: unknown, key: string): unknown {
  return typeof object === "object" && object !== null && Object.hasOwn(object, key)
    ? (object as Record<string, unknown>)[key]
    : undefined;
}
