import { verifyToolHistory, type ToolHistoryReader, type VerifiedHistory } from "@agentgate/core/internal";
import type { GateKeeper } from "@agentgate/core";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import { readToolCalls } from "./tool-calls.js";

export type { ForgedToolResult, VerifiedHistory } from "@agentgate/core/internal";

type Item = ChatCompletionMessageParam | ResponseInputItem;

const idOf = (id: unknown) => (typeof id === "string" && id !== "" ? id : undefined);

/** Chat `role: "tool"` messages and Responses `function_call_output` items, named by the calls before them. */
const reader: ToolHistoryReader = {
  calls(item) {
    const v = item as Record<string, unknown>;
    const calls = v.role === "assistant" ? v.tool_calls : v.type === "function_call" ? [v] : undefined;
    if (!Array.isArray(calls)) return undefined;
    // Named as runToolCalls audits them (namespaced, shortened).
    return readToolCalls(calls).flatMap((c) => (c.callId === undefined ? [] : [[c.callId, c.toolName] as const]));
  },
  result(item) {
    const v = item as Record<string, unknown>;
    if (v.role === "tool")
      return { callId: idOf(v.tool_call_id), output: v.content, with: (content) => ({ ...v, content }) };
    if (v.type !== "function_call_output") return undefined;
    return { callId: idOf(v.call_id), output: v.output, with: (output) => ({ ...v, output }) };
  },
};

/**
 * Checks the tool results in a history the app is about to send (Chat Completions `messages`, or Responses
 * `input` items): each `role: "tool"` message and `function_call_output` item must be exactly what
 * `runToolCalls` / `gateRunTools` produced for that call id with this gate. Anything else (a result for a call
 * that never ran, an edited result, a result from a client that rebuilt the history) is forged: it is reported,
 * audited as a DENY (`invalid_input`), and replaced by a denial in the returned history.
 *
 * The record is in-process and bounded (at least the last 10 000 call ids per gate): verify in the process that
 * ran the calls, e.g. where a server receives the history from a browser before sending it on.
 *
 * @example
 * const { ok, history } = await verifyToolResults(req.body.messages, gate);
 * await client.chat.completions.create({ model, messages: history });
 */
export async function verifyToolResults<History extends readonly Item[]>(
  history: History,
  gate: GateKeeper,
): Promise<VerifiedHistory<History>> {
  if (!Array.isArray(history))
    throw new TypeError("verifyToolResults: `history` must be an array of messages or input items");
  return verifyToolHistory(history, gate, reader);
}
