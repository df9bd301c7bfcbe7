import { zodResponsesFunction } from "openai/helpers/zod";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { runToolCalls } from "./run-tool-calls.js";
import { FakeOpenAI } from "./test-utils/fake-openai.js";
import { makeClient, makeGate, RULES } from "./test-utils/gate.js";
import {
  chatCompletion,
  chatChunks,
  functionCallItem,
  messageItem,
  response,
  responseEvents,
} from "./test-utils/payloads.js";

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function tools(log: string[]) {
  return {
    get_weather: ({ city }: { city: string }) => {
      log.push(`weather:${city}`);
      return { city, temperature: 21 };
    },
    search: ({ query }: { query: string }) => {
      log.push(`search:${query}`);
      return `results for ${query}`;
    },
    delete_repo: ({ repo }: { repo: string }) => {
      log.push(`delete:${repo}`);
      return "deleted";
    },
    deploy: ({ service }: { service: string }) => {
      log.push(`deploy:${service}`);
      return `deployed ${service}`;
    },
  };
}

describe("runToolCalls with the Responses API", () => {
  it("runs allowed calls and sends the denial of a denied call in the model's next request", async () => {
    fake = await FakeOpenAI.start([
      {
        json: response([
          functionCallItem({ id: "call_w", name: "get_weather", arguments: '{"city":"Paris"}' }),
          functionCallItem({ id: "call_d", name: "delete_repo", arguments: '{"repo":"core"}' }),
        ]),
      },
      { json: response([messageItem("It is 21 °C in Paris; I may not delete repositories.")]) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const input: any[] = [{ role: "user", content: "Weather in Paris, then delete the core repo" }];
    let res = await client.responses.create({ model: "gpt-4.1-mini", input });
    const results = await runToolCalls(res.output, { gate, tools: tools(log) });
    expect(results.map((r) => [r.callId, r.status, r.decision.type])).toEqual([
      ["call_w", "ran", "allow"],
      ["call_d", "denied", "deny"],
    ]);
    expect(results[0]!.result).toEqual({ city: "Paris", temperature: 21 });
    expect(log).toEqual(["weather:Paris"]);
    input.push(...res.output, ...results.map((r) => r.item));
    res = await client.responses.create({ model: "gpt-4.1-mini", input });
    expect(res.output_text).toContain("21 °C");

    const next = fake.requests[1]!.body.input as any[];
    const denial = next.find((i) => i.type === "function_call_output" && i.call_id === "call_d");
    expect(JSON.parse(denial.output)).toMatchObject({ denied: true, decision: "deny", code: "denied_target" });
    expect(JSON.parse(denial.output).reason).toMatch(/delete_repo/);
    expect(next.find((i) => i.type === "function_call_output" && i.call_id === "call_w").output).toBe(
      '{"city":"Paris","temperature":21}',
    );
  });

  it("gates streamed function calls, from output_item.done events and from the final response", async () => {
    const calls = [
      { id: "call_s1", name: "search", arguments: '{"query":"agentgate"}' },
      { id: "call_s2", name: "delete_repo", arguments: '{"repo":"x"}' },
    ];
    fake = await FakeOpenAI.start([{ sse: responseEvents(calls) }, { sse: responseEvents(calls) }]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];

    // Raw stream: run the calls as their items complete.
    const stream = await client.responses.create({ model: "gpt-4.1-mini", input: "go", stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    const fromEvents = await runToolCalls(events, { gate, tools: tools(log) });
    expect(fromEvents.map((r) => [r.callId, r.status])).toEqual([
      ["call_s1", "ran"],
      ["call_s2", "denied"],
    ]);

    // The SDK's stream helper: the final response's output.
    const helper = client.responses.stream({ model: "gpt-4.1-mini", input: "go" });
    const final = await helper.finalResponse();
    const fromFinal = await runToolCalls(final.output, { gate, tools: tools(log) });
    // Same call ids: nothing runs twice, the first output comes back.
    expect(fromFinal.map((r) => [r.callId, r.status, r.replayed])).toEqual([
      ["call_s1", "ran", true],
      ["call_s2", "denied", false],
    ]);
    expect(fromFinal[0]!.output).toBe(fromEvents[0]!.output);
    expect(log).toEqual(["search:agentgate"]);
  });

  it("denies malformed JSON arguments with a clear reason, audited, and never calls the function", async () => {
    fake = await FakeOpenAI.start([
      { json: response([functionCallItem({ id: "call_bad", name: "search", arguments: '{"query": "unterminated' })]) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const res = await client.responses.create({ model: "gpt-4.1-mini", input: "go" });
    const [result] = await runToolCalls(res.output, { gate, tools: tools(log) });
    expect(result!.status).toBe("denied");
    expect(result!.decision).toMatchObject({ type: "deny", code: "invalid_input", callId: "call_bad" });
    expect(result!.decision.reason).toMatch(/malformed JSON arguments for tool "search"/);
    expect(JSON.parse(result!.item.output as string).reason).toMatch(/malformed JSON/);
    expect(log).toEqual([]);
    expect(gate.decisions.at(-1)!.code).toBe("invalid_input");
  });

  it("runs each call id once: a repeat returns the first output, other arguments under the id are denied", async () => {
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const call = functionCallItem({ id: "call_once", name: "search", arguments: '{"query":"a"}' });
    const first = await runToolCalls([call], { gate, tools: tools(log) });
    // Two concurrent repeats (a replayed history, sent twice at once).
    const again = (
      await Promise.all([
        runToolCalls([call], { gate, tools: tools(log) }),
        runToolCalls([call], { gate, tools: tools(log) }),
      ])
    ).flat();
    expect(log).toEqual(["search:a"]);
    expect(again.map((r) => [r.status, r.replayed, r.output])).toEqual([
      ["ran", true, first[0]!.output],
      ["ran", true, first[0]!.output],
    ]);
    const forged = await runToolCalls([{ ...call, arguments: '{"query":"b"}' }], { gate, tools: tools(log) });
    expect(forged[0]).toMatchObject({
      status: "denied",
      decision: { code: "call_mismatch", target: "search", callId: "call_once" },
    });
    expect(forged[0]!.decision.reason).toMatch(/already used for a different tool or arguments/);
    expect(log).toEqual(["search:a"]);
  });

  it("runs zodResponsesFunction tools with parsed arguments; arguments the schema rejects are denied", async () => {
    const gate = await makeGate(RULES);
    const seen: unknown[] = [];
    const search = zodResponsesFunction({
      name: "search",
      parameters: z.object({ query: z.string().min(2) }),
      function: (args) => (seen.push(args), "ok"),
    });
    const results = await runToolCalls(
      [
        functionCallItem({ id: "z1", name: "search", arguments: '{"query":"gate"}' }),
        functionCallItem({ id: "z2", name: "search", arguments: '{"query":7}' }),
      ],
      { gate, tools: [search] },
    );
    expect(results.map((r) => r.status)).toEqual(["ran", "denied"]);
    expect(seen).toEqual([{ query: "gate" }]);
    expect(results[1]!.decision).toMatchObject({ code: "invalid_input" });
    expect(results[1]!.decision.reason).toMatch(/do not match its schema/);
  });

  it("runs a call id once when the same call arrives twice at the same time", async () => {
    const gate = await makeGate(RULES);
    let runs = 0;
    const slow = { search: async () => (await new Promise((r) => setTimeout(r, 20)), `run ${++runs}`) };
    const call = functionCallItem({ id: "call_race", name: "search", arguments: '{"query":"q"}' });
    const [a, b] = await Promise.all([
      runToolCalls([call], { gate, tools: slow }),
      runToolCalls([call], { gate, tools: slow }),
    ]);
    expect(runs).toBe(1);
    expect([a![0]!.output, b![0]!.output]).toEqual(["run 1", "run 1"]);
    expect([a![0]!.replayed, b![0]!.replayed].sort()).toEqual([false, true]);
  });

  it("checks and runs parallel calls independently (a slow or failing one does not block the others)", async () => {
    const gate = await makeGate(RULES);
    const order: string[] = [];
    const results = await runToolCalls(
      [
        functionCallItem({ id: "p1", name: "search", arguments: '{"query":"slow"}' }),
        functionCallItem({ id: "p2", name: "get_weather", arguments: '{"city":"Oslo"}' }),
        functionCallItem({ id: "p3", name: "unknown_tool", arguments: "{}" }),
      ],
      {
        gate,
        tools: {
          search: async ({ query }: { query: string }) => {
            await new Promise((r) => setTimeout(r, 30));
            order.push(query);
            throw new Error("search backend down");
          },
          get_weather: ({ city }: { city: string }) => {
            order.push(city);
            return "sunny";
          },
        },
      },
    );
    expect(order).toEqual(["Oslo", "slow"]);
    expect(results.map((r) => [r.callId, r.status])).toEqual([
      ["p1", "failed"],
      ["p2", "ran"],
      ["p3", "denied"],
    ]);
    expect(results[0]!.output).toContain("search backend down");
    expect(results[2]!.decision.reason).toMatch(/no function named "unknown_tool"/);
  });
});

describe("runToolCalls with Chat Completions", () => {
  it("gates streamed parallel tool calls and sends the denial in the next request", async () => {
    const calls = [
      { id: "call_a", name: "search", arguments: '{"query":"docs"}' },
      { id: "call_b", name: "delete_repo", arguments: '{"repo":"core"}' },
    ];
    fake = await FakeOpenAI.start([
      { sse: chatChunks({ tool_calls: calls }) },
      { json: chatCompletion({ content: "Found the docs; deletion is not allowed." }) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const messages: any[] = [{ role: "user", content: "find docs and delete core" }];
    const stream = client.chat.completions.stream({ model: "gpt-4.1-mini", messages, tools: [] });
    const message = await stream.finalMessage();
    const results = await runToolCalls(message.tool_calls, { gate, tools: tools(log) });
    expect(results.map((r) => [r.item.tool_call_id, r.status])).toEqual([
      ["call_a", "ran"],
      ["call_b", "denied"],
    ]);
    messages.push(message, ...results.map((r) => r.item));
    await client.chat.completions.create({ model: "gpt-4.1-mini", messages });
    const sent = fake.requests[1]!.body.messages as any[];
    const denial = sent.find((m) => m.role === "tool" && m.tool_call_id === "call_b");
    expect(JSON.parse(denial.content)).toMatchObject({ denied: true, code: "denied_target" });
    expect(sent.find((m) => m.role === "tool" && m.tool_call_id === "call_a").content).toBe("results for docs");
    expect(log).toEqual(["search:docs"]);
  });

  it("gates the raw chunks of create({ stream: true }): parallel calls assembled from deltas", async () => {
    const calls = [
      { id: "call_r1", name: "get_weather", arguments: '{"city":"Lisbon"}' },
      { id: "call_r2", name: "search", arguments: '{"query":"x"' },
    ];
    fake = await FakeOpenAI.start([{ sse: chatChunks({ tool_calls: calls }) }]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const stream = await client.chat.completions.create({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "go" }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const results = await runToolCalls(chunks, { gate, tools: tools(log) });
    expect(results.map((r) => [r.item.tool_call_id, r.status, r.decision.code])).toEqual([
      ["call_r1", "ran", "allowed"],
      ["call_r2", "denied", "invalid_input"],
    ]);
    expect(log).toEqual(["weather:Lisbon"]);
  });

  it("escalation approved inline by the gate's approval handler runs the call", async () => {
    const asked: unknown[] = [];
    const gate = await makeGate(RULES, {
      approvalHandler: (req) => (asked.push(req.args), { approved: true, approvedBy: "alice" }),
    });
    const log: string[] = [];
    const [r] = await runToolCalls(
      [{ id: "call_dep", type: "function", function: { name: "deploy", arguments: '{"service":"api"}' } }],
      { gate, tools: tools(log) },
    );
    expect(r).toMatchObject({ status: "ran", decision: { type: "allow", code: "approved", approvedBy: "alice" } });
    expect(asked).toEqual([{ service: "api" }]);
    expect(log).toEqual(["deploy:api"]);
  });

  it("escalation rejected inline never runs, and the model reads why", async () => {
    const gate = await makeGate(RULES, { approvalHandler: () => ({ approved: false, reason: "change freeze" }) });
    const log: string[] = [];
    const [r] = await runToolCalls(
      [{ id: "call_rej", type: "function", function: { name: "deploy", arguments: '{"service":"api"}' } }],
      { gate, tools: tools(log) },
    );
    expect(r).toMatchObject({ status: "denied", decision: { type: "deny", code: "approval_denied" } });
    expect(JSON.parse(r!.item.content as string).reason).toMatch(/change freeze/);
    expect(log).toEqual([]);
  });

  it("escalation without a handler waits: resolved later, the same call runs once", async () => {
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const call = {
      id: "call_wait",
      type: "function" as const,
      function: { name: "deploy", arguments: '{"service":"web"}' },
    };
    const [pending] = await runToolCalls([call], { gate, tools: tools(log) });
    expect(pending).toMatchObject({ status: "escalated", decision: { type: "escalate" } });
    expect(JSON.parse(pending!.output).reason).toMatch(/human approval required/);
    expect(log).toEqual([]);
    await gate.resolveEscalation(pending!.decision.escalationId!, { approved: true, approvedBy: "bob" });
    const [approved] = await runToolCalls([call], { gate, tools: tools(log) });
    expect(approved).toMatchObject({ status: "ran", decision: { code: "approved" } });
    const [replayed] = await runToolCalls([call], { gate, tools: tools(log) });
    expect(replayed!.replayed).toBe(true);
    expect(log).toEqual(["deploy:web"]);
  });

  it("escalation without a handler, rejected later: the call never runs and the model reads the human's reason", async () => {
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const call = {
      id: "call_no",
      type: "function" as const,
      function: { name: "deploy", arguments: '{"service":"db"}' },
    };
    const [pending] = await runToolCalls([call], { gate, tools: tools(log) });
    await gate.resolveEscalation(pending!.decision.escalationId!, {
      approved: false,
      approvedBy: "bob",
      reason: "not on a Friday",
    });
    const [rejected] = await runToolCalls([call], { gate, tools: tools(log) });
    expect(rejected).toMatchObject({ status: "denied", decision: { code: "approval_denied" } });
    expect(JSON.parse(rejected!.item.content as string).reason).toMatch(/not on a Friday/);
    expect(log).toEqual([]);
  });

  it("refuses custom tool calls instead of ignoring them", async () => {
    const gate = await makeGate(RULES);
    const [r] = await runToolCalls([{ id: "call_c", type: "custom", custom: { name: "search", input: "x" } }], {
      gate,
      tools: tools([]),
    });
    expect(r).toMatchObject({ status: "denied", item: { role: "tool", tool_call_id: "call_c" } });
    expect(r!.decision.reason).toMatch(/not a function tool/);
  });
});
