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
  return typeof value === "object" && value !== null && Object.prototype.hasOwnProperty.call(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

const notAFunction = (name: string) =>
  `custom tool ${JSON.stringify(name)} is not a function tool; AgentGate runs function tools only`;

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
  if (!Array.isArray(input))
    throw new TypeError("runToolCalls: pass `message.tool_calls`, `response.output` or an array of stream events");
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
    out.push({
      api: "responses",
      callId,
      name: namespace ? `${namespace}.${name}` : name,
      rawArguments: own(item, "arguments"),
    });
  };
  if (input.length > 0 && own(input[0], "object") === "chat.completion.chunk") return readChunks(input);
  for (const item of input as readonly unknown[]) {
    const type = own(item, "type");
    if (type === "function" && typeof own(item, "function") === "object") {
      const fn = own(item, "function");
      out.push({
        api: "chat",
        callId: str(own(item, "id")),
        name: nameOf(own(fn, "name")),
        rawArguments: own(fn, "arguments"),
      });
    } else if (type === "custom" && typeof own(item, "custom") === "object") {
      const name = nameOf(own(own(item, "custom"), "name"));
      out.push({
        api: "chat",
        callId: str(own(item, "id")),
        name,
        rawArguments: own(own(item, "custom"), "input"),
        problem: notAFunction(name),
      });
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

/** Longest argument string assembled from stream deltas (a model's arguments are far shorter). */
const MAX_STREAMED_ARGUMENTS = 4 * 1024 * 1024;

/**
 * Assembles the tool calls of the first choice from streamed chunks, as the
 * SDK's stream helper does: deltas are keyed by `index`; the id, name and
 * type come once, the arguments in pieces.
 */
function readChunks(chunks: readonly unknown[]): ReadCall[] {
  const calls = new Map<number, { id?: string; name?: string; args: string[]; length: number; custom: boolean }>();
  for (const chunk of chunks) {
    const choices = own(chunk, "choices");
    if (!Array.isArray(choices)) continue;
    for (const choice of choices) {
      if (own(choice, "index") !== 0) continue;
      const deltas = own(own(choice, "delta"), "tool_calls");
      if (!Array.isArray(deltas)) continue;
      for (const delta of deltas) {
        const index = own(delta, "index");
        if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 1024) continue;
        let call = calls.get(index);
        if (!call) calls.set(index, (call = { args: [], length: 0, custom: false }));
        const id = str(own(delta, "id"));
        if (id !== undefined) call.id ??= id;
        if (own(delta, "type") === "custom") call.custom = true;
        const fn = own(delta, "function");
        const name = str(own(fn, "name"));
        if (name !== undefined) call.name ??= name;
        const piece = own(fn, "arguments");
        if (typeof piece === "string" && call.length <= MAX_STREAMED_ARGUMENTS) {
          call.args.push(piece);
          call.length += piece.length;
        }
      }
    }
  }
  return [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, c]) => {
      const name = nameOf(c.name);
      const read: ReadCall = { api: "chat", callId: c.id, name, rawArguments: c.args.join("") };
      if (c.length > MAX_STREAMED_ARGUMENTS)
        read.problem = `the streamed arguments for tool ${JSON.stringify(name)} are longer than ${MAX_STREAMED_ARGUMENTS} characters`;
      if (c.custom) read.problem = notAFunction(name);
      return read;
    });
}
