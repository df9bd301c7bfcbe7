import { deniedToolResult, type Decision, type GateKeeper } from "@agentgate/core";
import { ToolMessage } from "@langchain/core/messages";

/** The message a refused tool call becomes: `status: "error"`, so the model knows it did not run. */
export function deniedToolMessage(call: { id?: string | undefined; name: string }, decision: Decision): ToolMessage {
  return new ToolMessage({
    content: JSON.stringify(deniedToolResult(decision)),
    tool_call_id: call.id ?? "",
    name: call.name,
    status: "error",
  });
}

/**
 * A DENY for a failure in this adapter's own glue (never an ALLOW), recorded by
 * the gate (`gate.refuse`) so it is audited like every other decision.
 */
export function adapterDenial(
  gate: GateKeeper,
  fields: {
    action: string;
    target?: string | undefined;
    callId?: string | undefined;
    code?: "internal_error" | "approval_error";
  },
  reason: string,
): Decision {
  return gate.refuse(fields.action, reason, {
    ...(fields.target !== undefined ? { target: fields.target } : {}),
    ...(fields.callId !== undefined ? { callId: fields.callId } : {}),
    ...(fields.code !== undefined ? { code: fields.code } : {}),
  });
}
