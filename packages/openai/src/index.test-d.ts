import type { Decision, GateKeeper } from "@agentgate/core";
import OpenAI from "openai";
import { zodFunction } from "openai/helpers/zod";
import type {
  ChatCompletionChunk,
  ChatCompletionMessage,
  ChatCompletionToolMessageParam,
} from "openai/resources/chat/completions";
import type { Response, ResponseInputItem, ResponseStreamEvent } from "openai/resources/responses/responses";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  findGateError,
  gateModelCalls,
  gateRunTools,
  ModelCallDeniedError,
  runToolCalls,
  ToolCallEscalatedError,
  verifyToolResults,
  type ChatToolCallResult,
  type ResponsesToolCallResult,
  type VerifiedHistory,
} from "./index.js";

declare const gate: GateKeeper;
declare const client: OpenAI;

describe("runToolCalls", () => {
  it("returns tool messages for Chat Completions tool_calls", () => {
    const message = {} as ChatCompletionMessage;
    expectTypeOf(
      runToolCalls(message.tool_calls, { gate, tools: { search: (a: { q: string }) => a.q } }),
    ).toEqualTypeOf<Promise<ChatToolCallResult[]>>();
    expectTypeOf<ChatToolCallResult["item"]>().toEqualTypeOf<ChatCompletionToolMessageParam>();
    expectTypeOf(runToolCalls([] as ChatCompletionChunk[], { gate, tools: {} })).toEqualTypeOf<
      Promise<ChatToolCallResult[]>
    >();
  });

  it("returns function_call_output items for Responses output and stream events", () => {
    const response = {} as Response;
    const events = [] as ResponseStreamEvent[];
    expectTypeOf(runToolCalls(response.output, { gate, tools: {} })).toEqualTypeOf<
      Promise<ResponsesToolCallResult[]>
    >();
    expectTypeOf(runToolCalls(events, { gate, tools: {} })).toEqualTypeOf<Promise<ResponsesToolCallResult[]>>();
    expectTypeOf<ResponsesToolCallResult["item"]>().toEqualTypeOf<ResponseInputItem.FunctionCallOutput>();
    expectTypeOf<ResponsesToolCallResult["decision"]>().toEqualTypeOf<Decision>();
    expectTypeOf<ResponsesToolCallResult["status"]>().toEqualTypeOf<"ran" | "denied" | "escalated" | "failed">();
  });

  it("rejects what is not a tool call list or options without a gate", () => {
    // @ts-expect-error a string is not a list of calls
    void runToolCalls("call", { gate, tools: {} });
    // @ts-expect-error the gate is required
    void runToolCalls([], { tools: {} });
  });
});

describe("gateRunTools", () => {
  it("returns tools runTools accepts, with and without toolContext", () => {
    const search = zodFunction({ name: "search", parameters: z.object({ q: z.string() }), function: ({ q }) => q });
    const tools = gateRunTools([search], gate);
    void client.chat.completions.runTools({ model: "m", messages: [], tools });
    const withContext = gateRunTools<{ user: string }>(
      [
        {
          type: "function",
          function: {
            name: "whoami",
            description: "",
            parameters: {},
            function: (_raw: string, _runner, ctx) => ctx.user,
          },
        },
      ],
      gate,
    );
    void client.chat.completions.runTools({
      model: "m",
      messages: [],
      tools: withContext,
      toolContext: { user: "ada" },
    });
    // @ts-expect-error escalation is "end" or "deny"
    gateRunTools([search], gate, { escalation: "ask" });
  });
});

describe("model calls and errors", () => {
  it("keeps the client type and exposes retryAfterMs", () => {
    expectTypeOf(gateModelCalls(client, gate)).toEqualTypeOf<OpenAI>();
    const error = findGateError(new Error("x"));
    if (ModelCallDeniedError.isInstance(error)) {
      expectTypeOf(error.retryAfterMs).toEqualTypeOf<number | undefined>();
      expectTypeOf(error.model).toEqualTypeOf<string | undefined>();
    }
    if (ToolCallEscalatedError.isInstance(error)) expectTypeOf(error.escalationId).toEqualTypeOf<string>();
    expectTypeOf(verifyToolResults([] as ResponseInputItem[], gate)).toEqualTypeOf<
      Promise<VerifiedHistory<ResponseInputItem[]>>
    >();
  });
});
