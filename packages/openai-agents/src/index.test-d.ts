import type { ApprovalRequest, Decision, DecisionCode, DeniedToolResult, GateKeeper } from "@agentgate/core";
import {
  Agent,
  RunState,
  tool,
  type FunctionTool,
  type Model,
  type ModelProvider,
  type RunResult,
  type Tool,
} from "@openai/agents-core";
import { webSearchTool } from "@openai/agents";
import type { HostedTool } from "@openai/agents-core";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  gateModel,
  gateModelProvider,
  gateTools,
  resolveGateInterruptions,
  type ApprovalDecider,
  type GateInterruptionOutcome,
  type DeniedToolOutput,
  type GateToolsOptions,
  type LocalDenialCode,
  type ToolDenial,
} from "./index.js";

declare const gate: GateKeeper;
declare const model: Model;
declare const provider: ModelProvider;
declare const mixed: Tool<unknown>[];
declare const hosted: HostedTool[];
declare const result: RunResult<unknown, Agent<unknown, any>>;
declare const state: RunState<unknown, Agent<unknown, any>>;

const search = tool({
  name: "search",
  description: "Search",
  parameters: z.object({ query: z.string() }),
  execute: async ({ query }) => query,
});

describe("gateTools", () => {
  it("keeps each tool's type, so the result goes straight into an Agent", () => {
    const tools = gateTools([search], gate);
    expectTypeOf(tools).toEqualTypeOf<(typeof search)[]>();
    new Agent({ name: "a", instructions: "", tools });
    expectTypeOf(gateTools(mixed, gate)).toEqualTypeOf<Tool<unknown>[]>();
  });

  it("takes core's mapping and a typed deniedOutput", () => {
    gateTools([search], gate, { mapping: { search: { action: "network", target: (input) => String(input.url) } } });
    gateTools([search], gate, { deniedOutput: (denial) => ({ ok: false, why: denial.reason }) });
    expectTypeOf<NonNullable<GateToolsOptions["deniedOutput"]>>().parameter(0).toEqualTypeOf<ToolDenial>();
    expectTypeOf<ToolDenial["decision"]>().toEqualTypeOf<Decision | undefined>();
    // One denial vocabulary: the adapter's old names are core's types.
    expectTypeOf<NonNullable<ToolDenial["code"]>>().toEqualTypeOf<DecisionCode>();
    expectTypeOf<LocalDenialCode>().toEqualTypeOf<DecisionCode>();
    expectTypeOf<DeniedToolOutput>().toEqualTypeOf<DeniedToolResult>();
    // @ts-expect-error a gate is required
    gateTools([search]);
    // @ts-expect-error mapping entries need an action
    gateTools([search], gate, { mapping: { search: { target: () => "x" } } });
  });

  it("refuses hosted tools at compile time, alone or next to function tools", () => {
    // @ts-expect-error web_search runs on OpenAI's side and cannot be gated
    gateTools([webSearchTool()], gate);
    // @ts-expect-error one hosted tool in the list is enough
    gateTools([search, webSearchTool()], gate);
    // @ts-expect-error any hosted tool type
    gateTools(hosted, gate);
    // A list typed as the whole Tool union (e.g. getAllMcpTools) is checked when gated.
    gateTools(mixed, gate);
  });

  it("takes the approval options for the SDK's own state.approve()", () => {
    gateTools([search], gate, {
      runState: "trusted",
      approvedBy: ({ runContext, toolName, callId }) => `${String(runContext.context)}:${toolName}:${callId}`,
    });
    gateTools([search], gate, { runState: "untrusted", approvedBy: async () => undefined });
    // @ts-expect-error two settings only
    gateTools([search], gate, { runState: "client" });
  });
});

describe("resolveGateInterruptions", () => {
  it("accepts a run result or a RunState and core's approval answer shapes", async () => {
    const outcomes = await resolveGateInterruptions(result, gate, () => true);
    expectTypeOf(outcomes).toEqualTypeOf<GateInterruptionOutcome[]>();
    await resolveGateInterruptions(state, gate, async (request) => {
      expectTypeOf(request).toEqualTypeOf<ApprovalRequest>();
      return { approved: false, approvedBy: "alice", reason: "no" };
    });
    expectTypeOf<ApprovalDecider>().returns.toEqualTypeOf<
      | boolean
      | { approved: boolean; approvedBy?: string; reason?: string }
      | Promise<boolean | { approved: boolean; approvedBy?: string; reason?: string }>
    >();
    // @ts-expect-error answers are booleans or { approved }
    await resolveGateInterruptions(state, gate, () => "yes");
  });
});

describe("gateModel", () => {
  it("returns a Model and a ModelProvider", () => {
    expectTypeOf(gateModel(model, gate)).toEqualTypeOf<Model>();
    expectTypeOf(gateModel(model, gate, { modelName: "gpt-5" })).toEqualTypeOf<Model>();
    expectTypeOf(gateModelProvider(provider, gate)).toEqualTypeOf<ModelProvider>();
    new Agent({ name: "a", instructions: "", model: gateModel(model, gate) });
    // @ts-expect-error the name is a string
    gateModel(model, gate, { modelName: 5 });
  });
});

export type _Unused = FunctionTool;
