import { errorText } from "../errors/error-text.js";
import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import { quote, type ToolCall } from "../gate/tool-call.js";

/** An adapter's per-call context option, bound to one call. */
export type CallContext = () => CallContextValue | PromiseLike<CallContextValue>;
type CallContextValue = Record<string, unknown> | undefined | null;

/**
 * `gate.checkToolCall(call)` with the context an app's option resolves for it. Never rejects:
 * a context function that throws, rejects or returns a non-object is an audited DENY that
 * names the tool and the error. Without `context` it is `checkToolCall` itself (the hot path).
 */
export function checkToolCallWithContext(gate: GateKeeper, call: ToolCall, context?: CallContext): Promise<Decision> {
  if (context === undefined) return gate.checkToolCall(call);
  return withContext(gate, call, context);
}

async function withContext(gate: GateKeeper, call: ToolCall, context: CallContext): Promise<Decision> {
  let resolved: Record<string, unknown> | undefined;
  try {
    resolved = (await context()) ?? undefined;
    if (resolved !== undefined && (typeof resolved !== "object" || Array.isArray(resolved))) {
      throw new TypeError("the context option must return a plain object or undefined");
    }
  } catch (error) {
    return refuseUnchecked(gate, call.toolName, call.callId, error);
  }
  return gate.checkToolCall(resolved === undefined ? call : { ...call, context: resolved });
}

/** The audited DENY for a tool call an adapter's glue (the app's code) could not get checked. */
export function refuseUnchecked(gate: GateKeeper, toolName: unknown, callId: unknown, error: unknown): Decision {
  const name = typeof toolName === "string" && toolName !== "" ? toolName : "unknown";
  return gate.refuse(
    "tool_use",
    `AgentGate could not check tool ${quote(name)} (${errorText(error)}), so the call is denied`,
    {
      target: name,
      ...(typeof callId === "string" && callId !== "" ? { callId } : {}),
    },
  );
}
