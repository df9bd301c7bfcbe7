import type { ChatCompletionMessageToolCall } from "openai/resources/chat/completions";
import type { ResponseFunctionToolCall, ResponseInputItem, ResponseOutputItem, ResponseStreamEvent } from "openai/resources/responses/responses";

/** What the model asked for, in any of the shapes the SDK hands out. */
export type ChatToolCallsInput = readonly ChatCompletionMessageToolCall[] | null | undefined;
/** Responses API `output` items, input items, or stream events (`response.output_item.done`, `response.completed`). */
export type ResponsesToolCallsInput = readonly (ResponseOutputItem | ResponseInputItem | ResponseStreamEvent | ResponseFunctionToolCall)[];

/** One call, read defensively from whatever the model (or a replayed history) sent. */
export interface ReadCall {
  api: "chat" | "responses";
  callId: string | undefined;
  name: string;
  rawArguments: unknown;
  /** Set when the call cannot be run at all (e.g. a custom tool call). */
  problem?: string;
}

const MAX_NAME = 256;

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function own(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

function nameOf(value: unknown): string {
  const name = str(value);
  if (name === undefined) return "(unnamed)";
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name;
}

/**
 * Reads the function calls out of Chat Completions `tool_calls`, Responses
 * `output` items or stream events. Responses items other than function calls
 * (messages, reasoning, hosted tools) are skipped; a call seen twice in the
 * same batch (an `output_item.done` event and the final `response.completed`)
 * is read once.
 */
export function readToolCalls(input: ChatToolCallsInput | ResponsesToolCallsInput): ReadCall[] {
  if (input === null || input === undefined) return [];
  if (!Array.isArray(input)) throw new TypeError("runToolCalls: pass `message.tool_calls`, `response.output` or an array of stream events");
  const out: ReadCall[] = [];
  // Only a batch of several items can hold the same call twice.
  const seen = input.length > 1 ? new Set<string>() : undefined;
  const pushResponses = (item: unknown) => {
    if (own(item, "type") !== "function_call") return;
    const callId = str(own(item, "call_id"));
    if (callId !== undefined && seen !== undefined) {
      // The same item from an output_item.done event and from response.completed: one call.
      const key = `${callId}\u0000${String(own(item, "arguments"))}\u0000${String(own(item, "name"))}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    const namespace = str(own(item, "namespace"));
    const name = nameOf(own(item, "name"));
    out.push({ api: "responses", callId, name: namespace ? `${namespace}.${name}` : name, rawArguments: own(item, "arguments") });
  };
  for (const item of input as readonly unknown[]) {
    const type = own(item, "type");
    if (type === "function" && typeof own(item, "function") === "object") {
      const fn = own(item, "function");
      out.push({ api: "chat", callId: str(own(item, "id")), name: nameOf(own(fn, "name")), rawArguments: own(fn, "arguments") });
    } else if (type === "custom" && typeof own(item, "custom") === "object") {
      const name = nameOf(own(own(item, "custom"), "name"));
      out.push({ api: "chat", callId: str(own(item, "id")), name, rawArguments: own(own(item, "custom"), "input"), problem: `custom tool ${JSON.stringify(name)} is not a function tool; AgentGate runs function tools only` });
    } else if (type === "function_call") {
      pushResponses(item);
    } else if (type === "response.output_item.done") {
      pushResponses(own(item, "item"));
    } else if (type === "response.completed") {
      const output = own(own(item, "response"), "output");
      if (Array.isArray(output)) for (const o of output) pushResponses(o);
    }
  }
  return out;
}
