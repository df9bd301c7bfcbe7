import { deniedToolResult, makeDecision, type Decision, type GateKeeper } from "@agentgate/core";
import { ToolMessage } from "@langchain/core/messages";

/** What the model reads when a tool call is refused: the core's structured denial, as JSON. */
export function deniedContent(decision: Decision): string {
  return JSON.stringify(deniedToolResult(decision));
}

/** The message a refused tool call becomes: `status: "error"`, so the model knows it did not run. */
export function deniedToolMessage(call: { id?: string | undefined; name: string }, decision: Decision): ToolMessage {
  return new ToolMessage({
    content: deniedContent(decision),
    tool_call_id: call.id ?? "",
    name: call.name,
    status: "error",
  });
}

/**
 * A DENY for a failure in this adapter's own glue (never an ALLOW). The core
 * fails closed inside itself; this covers what happens around it.
 */
export function adapterDenial(
  gate: GateKeeper,
  fields: { action: string; target?: string | undefined; callId?: string | undefined; code?: "internal_error" | "approval_error" },
  reason: string,
): Decision {
  return makeDecision({
    id: globalThis.crypto.randomUUID(),
    type: "deny",
    code: fields.code ?? "internal_error",
    agentId: gate.identity.id,
    agentName: gate.identity.name,
    action: fields.action,
    target: fields.target,
    reason,
    timestamp: new Date().toISOString(),
    policy: gate.policy.name,
    callId: fields.callId,
  });
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
