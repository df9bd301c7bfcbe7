import { deniedToolResult, PermissionDeniedError, type Decision, type GateKeeper } from "@agentgate/core";
import { admitModelCall } from "@agentgate/core/internal";
import { ToolMessage } from "@langchain/core/messages";

/** What every decision records about where it came from: the framework, the app's context, the thread. */
export function contextOf(context: Record<string, unknown> | undefined, threadId: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { framework: "langchain", ...context };
  if (typeof threadId === "string") out.threadId = threadId;
  return out;
}

/** An `llm_call` check (see `admitModelCall`): the ALLOW, or the decision that refused the model call. */
export async function checkModelCall(gate: GateKeeper, target: string, context: Record<string, unknown>) {
  try {
    return await admitModelCall(gate, target, context);
  } catch (error) {
    if (PermissionDeniedError.isInstance(error)) return error.decision;
    throw error;
  }
}

/** The message a refused tool call becomes: `status: "error"`, so the model knows it did not run. */
export function deniedToolMessage(call: { id?: string | undefined; name: string }, decision: Decision): ToolMessage {
  const content = JSON.stringify(deniedToolResult(decision));
  return new ToolMessage({ content, tool_call_id: call.id ?? "", name: call.name, status: "error" });
}
