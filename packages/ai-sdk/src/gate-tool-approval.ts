import type { GateKeeper, ToolMapping } from "@agentgate/core";
import { decideToolApproval, safeOwn } from "@agentgate/core/internal";
import type { GenericToolApprovalFunction, ToolApprovalConfiguration, ToolSet } from "ai";
import { readApprovalParts } from "./approval-messages.js";
import type { GateContextResolver } from "./context.js";

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
  const { toolApproval, context, mapping } = options;
  return (call) => {
    const { toolCall, messages, runtimeContext, toolsContext } = call;
    const { toolName, toolCallId, input } = toolCall;
    const toolContext = safeOwn(Object(toolsContext), toolName);
    return decideToolApproval(gate, {
      toolName,
      input,
      callId: toolCallId,
      mapping,
      answered: () => typeof toolCallId === "string" && readApprovalParts(messages).answeredCalls.has(toolCallId),
      appRule: "toolApproval",
      // The app's rule: a generic function, or a per-tool map of statuses and functions.
      app:
        toolApproval == null
          ? undefined
          : () => {
              if (typeof toolApproval === "function") return toolApproval(call);
              const entry = safeOwn(toolApproval, toolName);
              if (typeof entry !== "function") return entry;
              return entry(input, { toolCallId, messages, toolContext, runtimeContext });
            },
      context:
        context &&
        (() =>
          context({
            toolName,
            toolCallId,
            input,
            ...(toolContext !== undefined ? { toolContext } : {}),
            runtimeContext,
          })),
    });
  };
}
