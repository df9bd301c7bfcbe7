import { PermissionDeniedError } from "@agentgate/core";
import { afterEach, describe, expect, it } from "vitest";
import { findGateError } from "@agentgate/core";
import { gateModelCalls } from "./gate-model-calls.js";
import { gateRunTools } from "./gate-run-tools.js";
import { ModelCallDeniedError } from "@agentgate/core";
import { FakeOpenAI } from "./test-utils/fake-openai.js";
import { makeClient, makeGate } from "./test-utils/gate.js";
import { chatCompletion, messageItem, response, responseEvents } from "./test-utils/payloads.js";

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const RULES = [
  { action: "llm_call", allowed: true, allowedTargets: ["gpt-4.1-mini"], maxPerMinute: 2 },
  { action: "tool_use", allowed: true, allowedTargets: ["search"] },
];

describe("gateModelCalls", () => {
  it("checks each model request as llm_call; over max_per_minute it throws ModelCallDeniedError with retryAfterMs and sends nothing", async () => {
    fake = await FakeOpenAI.start([
      { json: response([messageItem("one")]) },
      { sse: responseEvents([]) },
      { json: response([messageItem("three")]) },
    ]);
    let now = 1_000_000;
    const gate = await makeGate(RULES, { clock: () => now });
    const client = gateModelCalls(makeClient(fake.baseURL), gate);
    expect((await client.responses.create({ model: "gpt-4.1-mini", input: "1" })).output_text).toBe("one");
    const stream = await client.responses.create({ model: "gpt-4.1-mini", input: "2", stream: true });
    for await (const _ of stream);
    now += 5_000;
    const error = await client.responses.create({ model: "gpt-4.1-mini", input: "3" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ModelCallDeniedError.isInstance(error)).toBe(true);
    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    if (!ModelCallDeniedError.isInstance(error)) return;
    expect(error.model).toBe("gpt-4.1-mini");
    expect(error.decision.code).toBe("rate_limit");
    expect(error.retryAfterMs).toBe(55_000);
    expect(fake.requests).toHaveLength(2);
    now += 55_000;
    expect((await client.responses.create({ model: "gpt-4.1-mini", input: "4" })).output_text).toBe("three");
    expect(gate.decisions.filter((d) => d.action === "llm_call").map((d) => d.type)).toEqual([
      "allow",
      "allow",
      "deny",
      "allow",
    ]);
  });

  it("checks only model requests: legacy completions and query-string paths are gated, embeddings are not", async () => {
    fake = await FakeOpenAI.start([
      { json: { object: "list", data: [{ object: "embedding", index: 0, embedding: [0.1] }], model: "e", usage: {} } },
      { json: { id: "c", object: "text_completion", created: 0, model: "gpt-4.1-mini", choices: [] } },
    ]);
    const gate = await makeGate(RULES);
    const client = gateModelCalls(makeClient(fake.baseURL), gate);
    await client.embeddings.create({ model: "text-embedding-3-small", input: "x" });
    await client.completions.create({ model: "gpt-4.1-mini", prompt: "x" }, { query: { trace: "1" } });
    const error = await client.completions.create({ model: "davinci", prompt: "x" }).catch((e: unknown) => e);
    expect(ModelCallDeniedError.isInstance(error)).toBe(true);
    expect(fake.requests.map((r) => r.path)).toEqual(["/embeddings", "/completions?trace=1"]);
    expect(gate.decisions.map((d) => [d.action, d.target, d.type])).toEqual([
      ["llm_call", "gpt-4.1-mini", "allow"],
      ["llm_call", "davinci", "deny"],
    ]);
  });

  it("denies a model the policy does not list; the original client stays ungated", async () => {
    fake = await FakeOpenAI.start([{ json: chatCompletion({ content: "ungated" }) }]);
    const gate = await makeGate(RULES);
    const raw = makeClient(fake.baseURL);
    const client = gateModelCalls(raw, gate);
    await expect(
      client.chat.completions.create({ model: "o3-pro", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toSatisfy(
      (e: unknown) => ModelCallDeniedError.isInstance(e) && e.decision.code !== "rate_limit" && e.model === "o3-pro",
    );
    expect(fake.requests).toHaveLength(0);
    // A copy of the gated client stays gated.
    await expect(
      client.withOptions({ timeout: 5_000 }).chat.completions.create({ model: "o3-pro", messages: [] }),
    ).rejects.toSatisfy(ModelCallDeniedError.isInstance);
    expect(fake.requests).toHaveLength(0);
    await raw.chat.completions.create({ model: "o3-pro", messages: [{ role: "user", content: "hi" }] });
    expect(fake.requests).toHaveLength(1);
  });

  it("gates every request of a runTools run; the SDK wraps the error, findGateError finds it", async () => {
    fake = await FakeOpenAI.start([
      { json: chatCompletion({ tool_calls: [{ id: "c1", name: "search", arguments: '{"q":1}' }] }) },
      { json: chatCompletion({ tool_calls: [{ id: "c2", name: "search", arguments: '{"q":2}' }] }) },
      { json: chatCompletion({ content: "never sent" }) },
    ]);
    const gate = await makeGate(RULES);
    const client = gateModelCalls(makeClient(fake.baseURL), gate);
    const search = {
      type: "function" as const,
      function: { name: "search", description: "", parameters: {}, function: () => "ok" },
    };
    const runner = client.chat.completions.runTools({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "go" }],
      tools: gateRunTools([search], gate),
    });
    const error = await runner.finalContent().then(
      () => undefined,
      (e: unknown) => e,
    );
    const cause = findGateError(error);
    expect(ModelCallDeniedError.isInstance(cause)).toBe(true);
    expect((cause as ModelCallDeniedError).retryAfterMs).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(2);
  });

  it("does not count the SDK's retries of an admitted request again", async () => {
    fake = await FakeOpenAI.start([
      { status: 500, json: { error: { message: "boom" } } },
      { json: response([messageItem("ok")]) },
    ]);
    const gate = await makeGate([{ action: "llm_call", allowed: true, maxPerMinute: 1 }]);
    const client = gateModelCalls(makeClient(fake.baseURL).withOptions({ maxRetries: 1 }), gate);
    expect((await client.responses.create({ model: "gpt-4.1-mini", input: "x" }, { maxRetries: 1 })).output_text).toBe(
      "ok",
    );
    expect(fake.requests).toHaveLength(2);
    expect(gate.decisions.map((d) => d.type)).toEqual(["allow"]);
  });
});
