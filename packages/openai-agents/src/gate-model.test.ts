import { PermissionDeniedError } from "@agentgate/core";
import { Agent, type Model, type ModelProvider } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { gateModel, gateModelProvider, gateTools } from "./index.js";
import { callId, makeGate, makeRunner, searchTool } from "./test-utils/fixtures.js";

describe("gateModel", () => {
  it("checks every model request as an llm_call with the model name as target", async () => {
    const gate = await makeGate([
      { action: "llm_call", allowed: true, allowedTargets: ["gpt-test"] },
      { action: "tool_use", allowed: true },
    ]);
    const inner = new ScriptedModel([
      [functionCall("search", { query: "x" }, { callId: callId() })],
      [assistantMessage("done")],
    ]);
    const agent = new Agent({
      name: "ops",
      instructions: "",
      model: gateModel(inner, gate, { modelName: "gpt-test" }),
      tools: gateTools([searchTool()], gate),
    });
    const result = await makeRunner().run(agent, "go");
    expect(result.finalOutput).toBe("done");
    const llm = gate.decisions.filter((d) => d.action === "llm_call");
    expect(llm.map((d) => [d.type, d.target])).toEqual([
      ["allow", "gpt-test"],
      ["allow", "gpt-test"],
    ]);
  });

  it("stops the run with a typed error at the rate limit; the provider is never called past it", async () => {
    const gate = await makeGate([
      { action: "llm_call", allowed: true, maxPerMinute: 2 },
      { action: "tool_use", allowed: true },
    ]);
    const inner = new ScriptedModel([
      [functionCall("search", { query: "1" }, { callId: callId() })],
      [functionCall("search", { query: "2" }, { callId: callId() })],
      [assistantMessage("never reached")],
    ]);
    const agent = new Agent({
      name: "ops",
      instructions: "",
      model: gateModel(inner, gate, { modelName: "m" }),
      tools: gateTools([searchTool()], gate),
    });

    const error = await makeRunner()
      .run(agent, "loop")
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    const denied = error as PermissionDeniedError;
    expect(denied.code).toBe("AGENTGATE_PERMISSION_DENIED");
    expect(denied.decision).toMatchObject({ type: "deny", action: "llm_call", code: "rate_limit" });
    expect(denied.reason).toMatch(/max_per_minute/);
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(inner.calls).toHaveLength(2);
  });

  it("gates streamed runs the same way", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, allowedTargets: ["allowed-model"] }]);
    const inner = new ScriptedModel([[assistantMessage("hi")]]);
    const agent = new Agent({
      name: "ops",
      instructions: "",
      model: gateModel(inner, gate, { modelName: "other-model" }),
    });
    const stream = await makeRunner().run(agent, "hi", { stream: true });
    const drained = (async () => {
      for await (const _event of stream) {
        // drain
      }
      await stream.completed;
    })();
    await expect(drained).rejects.toSatisfy((e: unknown) => PermissionDeniedError.isInstance(e));
    expect(inner.calls).toHaveLength(0);

    const allowed = new ScriptedModel([[assistantMessage("hi")]]);
    const ok = new Agent({
      name: "ops",
      instructions: "",
      model: gateModel(allowed, gate, { modelName: "allowed-model" }),
    });
    const okStream = await makeRunner().run(ok, "hi", { stream: true });
    for await (const _event of okStream) {
      // drain
    }
    await okStream.completed;
    expect(okStream.finalOutput).toBe("hi");
  });

  it("denies by default: no llm_call rule means no model call", async () => {
    const gate = await makeGate([]);
    const inner = new ScriptedModel([[assistantMessage("hi")]]);
    const agent = new Agent({ name: "ops", instructions: "", model: gateModel(inner, gate) });
    await expect(makeRunner().run(agent, "hi")).rejects.toSatisfy((e: unknown) => PermissionDeniedError.isInstance(e));
    expect(inner.calls).toHaveLength(0);
  });

  it("a gate that fails while checking is a PermissionDeniedError carrying its DENY, never a plain Error", async () => {
    let broken = false;
    const gate = await makeGate([{ action: "llm_call", allowed: true }], {
      clock: () => {
        if (broken) throw new Error("clock broke");
        return Date.now();
      },
    });
    broken = true;
    const inner = new ScriptedModel([[assistantMessage("hi")]]);
    const agent = new Agent({ name: "ops", instructions: "", model: gateModel(inner, gate, { modelName: "m" }) });
    const error = await makeRunner()
      .run(agent, "hi")
      .catch((e: unknown) => e);
    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    expect((error as PermissionDeniedError).decision).toMatchObject({
      type: "deny",
      code: "internal_error",
      target: "m",
    });
    expect((error as PermissionDeniedError).decision.reason).toContain("clock broke");
    expect(inner.calls).toHaveLength(0);
  });

  it("refuses an escalated model call (it cannot pause) and leaves no tool run", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, requireApproval: true }]);
    const inner = new ScriptedModel([[assistantMessage("hi")]]);
    const agent = new Agent({ name: "ops", instructions: "", model: gateModel(inner, gate, { modelName: "m" }) });
    const error = await makeRunner()
      .run(agent, "hi")
      .catch((e: unknown) => e);
    expect((error as PermissionDeniedError).decision.type).toBe("escalate");
    expect(inner.calls).toHaveLength(0);
  });

  it("reads the model name from provider model instances, and advises against retrying a denial", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, allowedTargets: ["gpt-named"] }]);
    const named = Object.assign(new ScriptedModel([[assistantMessage("ok")]]), { _model: "gpt-named" });
    const gated = gateModel(named, gate);
    const result = await makeRunner().run(new Agent({ name: "ops", instructions: "", model: gated }), "hi");
    expect(result.finalOutput).toBe("ok");
    expect(gate.decisions.at(-1)).toMatchObject({ type: "allow", target: "gpt-named" });

    const denial = new PermissionDeniedError(gate.decisions.at(-1)!);
    const advice = await gated.getRetryAdvice!({ request: {} as never, error: denial, stream: false, attempt: 1 });
    expect(advice).toMatchObject({ suggested: false, replaySafety: "safe" });
    // Other errors: the wrapped model's own advice.
    expect(
      await gated.getRetryAdvice!({ request: {} as never, error: new Error("x"), stream: false, attempt: 1 }),
    ).toEqual(await named.getRetryAdvice({ request: {} as never, error: new Error("x"), stream: false, attempt: 1 }));
  });

  it("gateModelProvider gates every model it hands out, named as requested", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true, allowedTargets: ["good-model"] }]);
    const models: ScriptedModel[] = [];
    const provider: ModelProvider = {
      getModel: () => {
        const model = new ScriptedModel([[assistantMessage("ok")]]);
        models.push(model);
        return model;
      },
    };
    const runnerWith = () => makeRunner({ modelProvider: gateModelProvider(provider, gate) });
    const good = await runnerWith().run(new Agent({ name: "a", instructions: "", model: "good-model" }), "hi");
    expect(good.finalOutput).toBe("ok");
    await expect(
      runnerWith().run(new Agent({ name: "b", instructions: "", model: "bad-model" }), "hi"),
    ).rejects.toSatisfy((e: unknown) => PermissionDeniedError.isInstance(e) && e.decision.target === "bad-model");
    expect(models.at(-1)!.calls).toHaveLength(0);
  });

  it("rejects what is not a model or a gate", async () => {
    const gate = await makeGate([]);
    expect(() => gateModel({} as Model, gate)).toThrow(TypeError);
    expect(() => gateModel(new ScriptedModel(), {} as never)).toThrow(TypeError);
    expect(() => gateModelProvider({} as ModelProvider, gate)).toThrow(TypeError);
  });
});
