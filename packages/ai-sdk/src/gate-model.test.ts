import { PermissionDeniedError } from "@agentgate/core";
import { generateText, isStepCount, streamText, tool } from "ai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateModel } from "./gate-model.js";
import { makeGate } from "./test-utils/gate.js";
import { scriptedModel } from "./test-utils/scripted-model.js";

const search = tool({ inputSchema: z.object({ q: z.string() }), execute: async ({ q }) => `found ${q}` });
const loop = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ toolCalls: [{ toolName: "search", input: { q: `q${i}` } }] }));

describe("gateModel", () => {
  it("checks every model call as llm_call with the model id as target", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, allowedTargets: ["scripted-*"] }]);
    const model = scriptedModel(loop(2), "scripted-mini");
    const result = await generateText({
      model: gateModel(model, gate),
      tools: { search },
      prompt: "go",
      stopWhen: isStepCount(5),
    });
    expect(result.text).toBe("done");
    expect(gate.decisions.map((d) => [d.type, d.action, d.target])).toEqual([
      ["allow", "llm_call", "scripted-mini"],
      ["allow", "llm_call", "scripted-mini"],
      ["allow", "llm_call", "scripted-mini"],
    ]);
  });

  it("stops a tool loop at the llm_call rate limit with a typed error that carries retryAfterMs", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, maxPerMinute: 3 }]);
    const model = scriptedModel(loop(10));
    const error = await generateText({
      model: gateModel(model, gate),
      tools: { search },
      prompt: "go",
      stopWhen: isStepCount(10),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    const denied = error as PermissionDeniedError;
    expect(denied.decision.code).toBe("rate_limit");
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    expect(denied.message).toContain(denied.reason);
    // The provider was never called for the refused step, and the SDK did not retry.
    expect(model.doGenerateCalls).toHaveLength(3);
    expect(gate.decisions.filter((d) => d.type === "deny")).toHaveLength(1);
  });

  it("refuses model calls the policy does not grant, before the provider is contacted", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, allowedTargets: ["gpt-*"] }]);
    const model = scriptedModel([], "claude-x");
    await expect(generateText({ model: gateModel(model, gate), prompt: "hi" })).rejects.toSatisfy(
      PermissionDeniedError.isInstance,
    );
    expect(model.doGenerateCalls).toHaveLength(0);
  });

  it("gates streaming calls: streamText reports the denial and never opens the provider stream", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, maxPerMinute: 1 }]);
    const model = scriptedModel(loop(5));
    const errors: unknown[] = [];
    const result = streamText({
      model: gateModel(model, gate),
      tools: { search },
      prompt: "go",
      stopWhen: isStepCount(5),
      onError: ({ error }) => {
        errors.push(error);
      },
    });
    const parts = [];
    for await (const part of result.fullStream) parts.push(part.type);
    expect(parts).toContain("error");
    expect(errors.some(PermissionDeniedError.isInstance)).toBe(true);
    expect(model.doStreamCalls).toHaveLength(1);
  });

  it("escalations of llm_call without a handler are refused, not left hanging", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, requireApproval: true }]);
    const model = scriptedModel([]);
    const error = await generateText({ model: gateModel(model, gate), prompt: "hi" }).catch((e: unknown) => e);
    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    expect((error as PermissionDeniedError).decision.type).toBe("escalate");
    expect(model.doGenerateCalls).toHaveLength(0);
  });

  it("fails closed when the context option throws", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true }]);
    const model = scriptedModel([]);
    const gated = gateModel(model, gate, {
      context: () => {
        throw new Error("no tenant");
      },
    });
    await expect(generateText({ model: gated, prompt: "hi" })).rejects.toThrow(/no tenant/);
    expect(model.doGenerateCalls).toHaveLength(0);
    // The failure is a typed, audited DENY like any policy refusal.
    expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", code: "internal_error", action: "llm_call" });
    const error = await generateText({ model: gated, prompt: "hi" }).catch((e: unknown) => e);
    expect(
      PermissionDeniedError.isInstance(error) ||
        PermissionDeniedError.isInstance((error as { cause?: unknown })?.cause),
    ).toBe(true);
  });

  it("passes context and call info to the gate", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true }]);
    const seen: unknown[] = [];
    const model = scriptedModel([], "m-1");
    await generateText({
      model: gateModel(model, gate, {
        context: (info) => {
          seen.push(info);
          return { tenant: "acme" };
        },
      }),
      prompt: "hi",
    });
    expect(seen).toEqual([{ modelId: "m-1", provider: "mock-provider", type: "generate" }]);
  });
});
