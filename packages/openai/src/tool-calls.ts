import type { ChatCompletionChunk, ChatCompletionMessageToolCall } from "openai/resources/chat/completions";
import type {
  ResponseFunctionToolCall,
  ResponseInputItem,
  ResponseOutputItem,
  ResponseStreamEvent,
} from "openai/resources/responses/responses";

/** Chat Completions `message.tool_calls`, or the chunks of a streamed completion (`create({ stream: true })`). */
export type ChatToolCallsInput =
  | readonly ChatCompletionMessageToolCall[]
  | readonly ChatCompletionChunk[]
  | null
  | undefined;
/** Responses API `output` items, input items, or stream events (`response.output_item.done`, `response.completed`). */
export type ResponsesToolCallsInput = readonly (
  | ResponseOutputItem
  | ResponseInputItem
  | ResponseStreamEvent
  | ResponseFunctionToolCall
)[];

/** One call, read defensively from whatever the model (or a replayed history) sent. */
export interface ReadCall {
  api: "chat" | "responses";
  callId: string | undefined;
  toolName: string;
  rawArguments: unknown;
  /** Set when the call cannot be run at all (e.g. a custom tool call). */
  problem?: string;
}

const MAX_NAME = 256;
/** Longest argument string assembled from stream deltas (a model's arguments are far shorter). */
const MAX_STREAMED_ARGUMENTS = 4 * 1024 * 1024;

const hasOwn = Object.prototype.hasOwnProperty;
const own = (value: unknown, key: string) =>
  typeof value === "object" && value !== null && hasOwn.call(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
const str = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

function nameOf(value: unknown): string {
  const name = str(value) ?? "(unnamed)";
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name;
}

function chatCall(id: unknown, name: string, rawArguments: unknown, custom: boolean): ReadCall {
  const call: ReadCall = { api: "chat", callId: str(id), toolName: name, rawArguments };
  if (custom)
    call.problem = `custom tool ${JSON.stringify(name)} is not a function tool; AgentGate runs function tools only`;
  return call;
}

/**
 * Reads the function calls out of Chat Completions `tool_calls` (or streamed chunks), Responses `output` items
 * or stream events. Responses items other than function calls (messages, reasoning, hosted tools) are skipped;
 * a call seen twice in the same batch (an `output_item.done` event and the final `response.completed`) is read
 * once.
 */
export function readToolCalls(input: ChatToolCallsInput | ResponsesToolCallsInput): ReadCall[] {
  if (input === null || input === undefined) return [];
  if (!Array.isArray(input))
    throw new TypeError("runToolCalls: pass `message.tool_calls`, `response.output` or an array of stream events");
  if (own(input[0], "object") === "chat.completion.chunk") return readChunks(input);
  const out: ReadCall[] = [];
  // Only a batch of several items can hold the same call twice.
  const seen = input.length > 1 ? new Set<string>() : undefined;
  for (const item of input as readonly unknown[]) {
    const type = own(item, "type");
    if (type === "function" || type === "custom") {
      // A Chat call keeps its name and arguments under its type: `function` or `custom` (its `input`).
      const fn = own(item, type);
      const custom = type === "custom";
      if (typeof fn === "object")
        out.push(chatCall(own(item, "id"), nameOf(own(fn, "name")), own(fn, custom ? "input" : "arguments"), custom));
    } else if (type === "response.output_item.done") {
      const inner = own(item, "item");
      responsesCall(out, seen, inner, own(inner, "type"));
    } else if (type === "response.completed") {
      const output = own(own(item, "response"), "output");
      if (Array.isArray(output)) for (const o of output) responsesCall(out, seen, o, own(o, "type"));
    } else responsesCall(out, seen, item, type);
  }
  return out;
}

/** Reads one Responses item into `out` when it is a function call not seen before in this batch. */
function responsesCall(out: ReadCall[], seen: Set<string> | undefined, item: unknown, type: unknown): void {
  if (type !== "function_call") return;
  const callId = str(own(item, "call_id"));
  const name = own(item, "name");
  const args = own(item, "arguments");
  if (callId !== undefined && seen !== undefined) {
    const key = `${callId}\u0000${String(args)}\u0000${String(name)}`;
    if (seen.has(key)) return;
    seen.add(key);
  }
  const namespace = str(own(item, "namespace"));
  const toolName = namespace ? `${namespace}.${nameOf(name)}` : nameOf(name);
  out.push({ api: "responses", callId, toolName, rawArguments: args });
}

/**
 * Assembles the tool calls of the first choice from streamed chunks, as the SDK's stream helper does: deltas
 * are keyed by `index`; the id, name and type come once, the arguments in pieces.
 */
function readChunks(chunks: readonly unknown[]): ReadCall[] {
  // Sparse, by delta index: `flatMap` below visits the calls in index order and skips the gaps.
  const calls: { id?: string | undefined; name?: string | undefined; args: string; custom: boolean }[] = [];
  for (const chunk of chunks) {
    const choices = own(chunk, "choices");
    if (!Array.isArray(choices)) continue;
    for (const choice of choices) {
      const deltas = own(own(choice, "delta"), "tool_calls");
      if (own(choice, "index") !== 0 || !Array.isArray(deltas)) continue;
      for (const delta of deltas) {
        const index = own(delta, "index");
        if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 1024) continue;
        const call = (calls[index] ??= { args: "", custom: false });
        const fn = own(delta, "function");
        call.id ??= str(own(delta, "id"));
        call.name ??= str(own(fn, "name"));
        if (own(delta, "type") === "custom") call.custom = true;
        const piece = own(fn, "arguments");
        if (typeof piece === "string" && call.args.length <= MAX_STREAMED_ARGUMENTS) call.args += piece;
      }
    }
  }
  return calls.flatMap(({ id, name, args, custom }) => {
    const read = chatCall(id, nameOf(name), args, custom);
    if (!custom && args.length > MAX_STREAMED_ARGUMENTS)
      read.problem = `the streamed arguments for tool ${JSON.stringify(read.toolName)} are longer than ${MAX_STREAMED_ARGUMENTS} characters`;
    return [read];
  });
}
