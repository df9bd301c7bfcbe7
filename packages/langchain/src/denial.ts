import { deniedToolResult, type Decision } from "@agentgate/core";
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
