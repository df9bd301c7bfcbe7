import type { GateKeeper } from "@agentgate/core";
import {
  dynamicTool,
  generateText,
  jsonSchema,
  streamText,
  tool,
  ToolLoopAgent,
  type InferToolInput,
  type InferToolOutput,
  type LanguageModel,
  type ToolSet,
} from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  gateModel,
  gateToolApproval,
  isGateDenial,
  recordApprovals,
  withGate,
  type GateDeniedResult,
  type RecordedApproval,
} from "./index.js";

declare const gate: GateKeeper;

const tools = {
  weather: tool({
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, celsius: 21 }),
  }),
  stream: tool({
    inputSchema: z.object({ n: z.number() }),
    async *execute({ n }) {
      yield { progress: n };
    },
  }),
  clientSide: tool({ inputSchema: z.object({ q: z.string() }), outputSchema: z.boolean() }),
  mcp: dynamicTool({ inputSchema: jsonSchema({ type: "object" }), execute: async () => "ok" }),
};

describe("withGate types", () => {
  it("returns a ToolSet with the same keys and tool types", () => {
    const gated = withGate(tools, gate, { mapping: { weather: { action: "network", target: (i) => String(i.city) } } });
    expectTypeOf(gated).toEqualTypeOf<typeof tools>();
    expectTypeOf(gated).toExtend<ToolSet>();
    expectTypeOf<InferToolInput<typeof gated.weather>>().toEqualTypeOf<{ city: string }>();
    expectTypeOf<InferToolOutput<typeof gated.weather>>().toEqualTypeOf<{ city: string; celsius: number }>();
    expectTypeOf<InferToolInput<typeof gated.stream>>().toEqualTypeOf<{ n: number }>();
    expectTypeOf<InferToolOutput<typeof gated.stream>>().toEqualTypeOf<{ progress: number }>();
    expectTypeOf<InferToolOutput<typeof gated.clientSide>>().toEqualTypeOf<boolean>();
    expectTypeOf<InferToolInput<typeof gated.mcp>>().toEqualTypeOf<unknown>();
  });

  it("rejects things that are not a gate or a ToolSet", () => {
    // @ts-expect-error a ToolSet is required
    withGate("search", gate);
    // @ts-expect-error a GateKeeper is required
    withGate(tools, {});
  });

  it("narrows a denial with isGateDenial", () => {
    const output: unknown = {};
    if (isGateDenial(output)) {
      expectTypeOf(output).toEqualTypeOf<GateDeniedResult>();
      expectTypeOf(output.reason).toEqualTypeOf<string>();
      expectTypeOf(output.retryAfterMs).toEqualTypeOf<number | undefined>();
    }
  });
});

describe("gateToolApproval types", () => {
  const model = new MockLanguageModelV4();

  it("fits the toolApproval option of generateText, streamText and ToolLoopAgent", () => {
    void generateText({ model, tools: withGate(tools, gate), toolApproval: gateToolApproval(gate), prompt: "x" });
    void streamText({ model, tools, toolApproval: gateToolApproval(gate), prompt: "x" });
    new ToolLoopAgent({ model, tools, toolApproval: gateToolApproval(gate) });
  });

  it("types the composed per-tool approval by each tool's input", () => {
    gateToolApproval<typeof tools>(gate, {
      toolApproval: {
        weather: (input) => {
          expectTypeOf(input).toEqualTypeOf<{ city: string }>();
          return input.city === "Paris" ? "user-approval" : undefined;
        },
      },
    });
    gateToolApproval<typeof tools>(gate, {
      // @ts-expect-error not a tool of the set
      toolApproval: { nope: "denied" },
    });
  });
});

describe("recordApprovals and gateModel types", () => {
  it("records approvals from model messages", () => {
    expectTypeOf(recordApprovals([], gate, { approvedBy: "alice" })).toEqualTypeOf<Promise<RecordedApproval[]>>();
  });

  it("returns a model generateText accepts", () => {
    const model = gateModel(new MockLanguageModelV4(), gate);
    expectTypeOf(model).toExtend<LanguageModel>();
    expectTypeOf(model.modelId).toEqualTypeOf<string>();
    // @ts-expect-error a model id string is not a model object
    gateModel("openai/gpt-5", gate);
  });
});
