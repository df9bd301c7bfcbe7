import type { LanguageModelV4CallOptions, LanguageModelV4Content, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { MockLanguageModelV4, convertArrayToReadableStream } from "ai/test";

/** One scripted model turn: tool calls (emitted in parallel) and/or text. */
export interface ScriptedTurn {
  toolCalls?: Array<{ toolName: string; input: unknown; toolCallId?: string }>;
  text?: string;
}

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 5, text: 5, reasoning: 0 },
};

let nextId = 0;

/**
 * The AI SDK's own offline model, scripted: call N returns turn N (then plain text "done").
 * Tool call ids are unique across the test run unless a turn fixes one.
 */
export function scriptedModel(turns: ScriptedTurn[], modelId = "scripted-model") {
  let turn = 0;
  const next = (): LanguageModelV4Content[] => {
    const current = turns[turn++] ?? { text: "done" };
    const content: LanguageModelV4Content[] = [];
    if (current.text !== undefined) content.push({ type: "text", text: current.text });
    for (const call of current.toolCalls ?? []) {
      content.push({
        type: "tool-call",
        toolCallId: call.toolCallId ?? `call-${++nextId}`,
        toolName: call.toolName,
        input: JSON.stringify(call.input),
      });
    }
    return content;
  };
  const finishReason = (content: LanguageModelV4Content[]) =>
    content.some((c) => c.type === "tool-call")
      ? { unified: "tool-calls" as const, raw: undefined }
      : { unified: "stop" as const, raw: undefined };

  // Fixed response metadata, so two runs of one script produce equal histories.
  const response = () => ({ id: `${modelId}-response-${turn}`, timestamp: new Date(0), modelId });
  return new MockLanguageModelV4({
    modelId,
    doGenerate: async () => {
      const content = next();
      return { content, finishReason: finishReason(content), usage, warnings: [], response: response() };
    },
    doStream: async () => {
      const content = next();
      const parts: LanguageModelV4StreamPart[] = [
        { type: "stream-start", warnings: [] },
        { type: "response-metadata", ...response() },
      ];
      content.forEach((c, i) => {
        if (c.type === "text") {
          parts.push(
            { type: "text-start", id: `t${i}` },
            { type: "text-delta", id: `t${i}`, delta: c.text },
            { type: "text-end", id: `t${i}` },
          );
        } else {
          parts.push(c as LanguageModelV4StreamPart);
        }
      });
      parts.push({ type: "finish", finishReason: finishReason(content), usage });
      return { stream: convertArrayToReadableStream(parts) };
    },
  });
}

/** Every prompt the model received, as JSON text, oldest first. */
export function promptsOf(model: MockLanguageModelV4): string[] {
  const calls: LanguageModelV4CallOptions[] = [...model.doGenerateCalls, ...model.doStreamCalls];
  return calls.map((c) => JSON.stringify(c.prompt));
}
