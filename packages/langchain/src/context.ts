import { deniedToolResult, type Decision, type GateKeeper } from "@agentgate/core";
import { checkWithoutPause } from "@agentgate/core/internal";
import { ToolMessage } from "@langchain/core/messages";

/** Throws a TypeError when `gate` is not a GateKeeper (a misuse, caught where the adapter is built). */
export function requireGate(gate: GateKeeper, who: string): void {
  if (typeof (gate as Partial<GateKeeper> | undefined)?.checkToolCall !== "function") {
    throw new TypeError(`${who} needs a GateKeeper`);
  }
}

/** What every decision records about where it came from: the framework, the app's context, the thread. */
export function contextOf(context: Record<string, unknown> | undefined, threadId: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { framework: "langchain", ...context };
  if (typeof threadId === "string") out.threadId = threadId;
  return out;
}

/** An `llm_call` check. A model call has no id to resume by, so it cannot wait for a human `where` it runs. */
export function checkModelCall(gate: GateKeeper, target: string, context: Record<string, unknown>, where: string) {
  const why = `model calls cannot wait for approval in ${where} (give the GateKeeper an approvalHandler)`;
  return checkWithoutPause(gate, "llm_call", { target, context }, why);
}

/** The message a refused tool call becomes: `status: "error"`, so the model knows it did not run. */
export function deniedToolMessage(call: { id?: string | undefined; name: string }, decision: Decision): ToolMessage {
  const content = JSON.stringify(deniedToolResult(decision));
  return new ToolMessage({ content, tool_call_id: call.id ?? "", name: call.name, status: "error" });
}
