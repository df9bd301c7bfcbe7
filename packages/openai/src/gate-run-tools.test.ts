import { zodFunction } from "openai/helpers/zod";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { findGateError } from "@agentgate/core";
import { gateRunTools } from "./gate-run-tools.js";
import { runToolCalls } from "./run-tool-calls.js";
import { ToolCallEscalatedError } from "./tool-call-escalated-error.js";
import { FakeOpenAI } from "./test-utils/fake-openai.js";
import { makeClient, makeGate, RULES } from "./test-utils/gate.js";
import { chatChunks, chatCompletion } from "./test-utils/payloads.js";

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function runToolsTools(log: string[]) {
  const search = zodFunction({
    name: "search",
    description: "Search the docs",
    parameters: z.object({ query: z.string() }),
    function: ({ query }) => {
      log.push(`search:${query}`);
      return { hits: [`${query}.md`] };
    },
  });
  const deleteRepo = {
    type: "function" as const,
    function: {
      name: "delete_repo",
      description: "Delete a repository",
      parameters: { type: "object", properties: { repo: { type: "string" } }, required: ["repo"] },
      parse: JSON.parse,
      function: ({ repo }: { repo: string }) => {
        log.push(`delete:${repo}`);
        return "deleted";
      },
    },
  };
  const deploy = {
    type: "function" as const,
    function: {
      name: "deploy",
      description: "Deploy a service",
      parameters: { type: "object", properties: { service: { type: "string" } } },
      function: (raw: string) => {
        log.push(`deploy:${JSON.parse(raw).service}`);
        return `deployed ${JSON.parse(raw).service}`;
      },
    },
  };
  return [search, deleteRepo, deploy] as const;
}

describe("gateRunTools with client.chat.completions.runTools", () => {
  it("runs allowed calls; a denied call never runs and its denial is in the model's next request", async () => {
    fake = await FakeOpenAI.start([
      {
        json: chatCompletion({
          tool_calls: [
            { id: "call_1", name: "search", arguments: '{"query":"gate"}' },
            { id: "call_2", name: "delete_repo", arguments: '{"repo":"core"}' },
          ],
        }),
      },
      { json: chatCompletion({ content: "Found gate.md. I cannot delete core." }) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const runner = client.chat.completions.runTools({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "search gate, delete core" }],
      tools: gateRunTools([...runToolsTools(log)], gate),
    });
    expect(await runner.finalContent()).toBe("Found gate.md. I cannot delete core.");
    expect(log).toEqual(["search:gate"]);
    const second = fake.requests[1]!.body;
    const byId = Object.fromEntries(
      (second.messages as any[]).filter((m) => m.role === "tool").map((m) => [m.tool_call_id, m.content]),
    );
    expect(JSON.parse(byId.call_1)).toEqual({ hits: ["gate.md"] });
    expect(JSON.parse(byId.call_2)).toMatchObject({ denied: true, code: "denied_target" });
    // The zod tool keeps its strict schema on the wire.
    expect(fake.requests[0]!.body.tools.find((t: any) => t.function.name === "search").function.strict).toBe(true);
    expect(gate.decisions.filter((d) => d.action === "tool_use").map((d) => [d.callId, d.type])).toEqual([
      ["call_1", "allow"],
      ["call_2", "deny"],
    ]);
  });

  it("streams (stream: true) with parallel calls and malformed JSON arguments denied, never crashing the run", async () => {
    fake = await FakeOpenAI.start([
      {
        sse: chatChunks({
          tool_calls: [
            { id: "call_s", name: "search", arguments: '{"query":"a"}' },
            { id: "call_m", name: "deploy", arguments: '{"service":' },
          ],
        }),
      },
      { sse: chatChunks({ content: "done" }) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const runner = client.chat.completions.runTools({
      model: "gpt-4.1-mini",
      stream: true,
      messages: [{ role: "user", content: "go" }],
      tools: gateRunTools([...runToolsTools(log)], gate),
    });
    expect(await runner.finalContent()).toBe("done");
    expect(log).toEqual(["search:a"]);
    const tool = (fake.requests[1]!.body.messages as any[]).find((m) => m.tool_call_id === "call_m");
    expect(JSON.parse(tool.content)).toMatchObject({ denied: true, code: "invalid_input" });
    expect(JSON.parse(tool.content).reason).toMatch(/malformed JSON arguments for tool "deploy"/);
    // The call ids come from the streamed assistant message.
    expect(
      gate.decisions
        .filter((d) => d.action === "tool_use")
        .map((d) => [d.callId, d.type])
        .sort(),
    ).toEqual([
      ["call_m", "deny"],
      ["call_s", "allow"],
    ]);
  });

  it("strict (zod) tools: the SDK itself rejects malformed arguments before any tool runs (fail closed)", async () => {
    fake = await FakeOpenAI.start([
      { sse: chatChunks({ tool_calls: [{ id: "call_x", name: "search", arguments: '{"query":' }] }) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const runner = client.chat.completions.runTools({
      model: "gpt-4.1-mini",
      stream: true,
      messages: [{ role: "user", content: "go" }],
      tools: gateRunTools([...runToolsTools(log)], gate),
    });
    await expect(runner.finalContent()).rejects.toThrow(/invalid structured output JSON/);
    expect(log).toEqual([]);
  });

  it("escalation approved or rejected inline by the gate's approval handler", async () => {
    fake = await FakeOpenAI.start([
      {
        json: chatCompletion({
          tool_calls: [
            { id: "call_ok", name: "deploy", arguments: '{"service":"api"}' },
            { id: "call_no", name: "deploy", arguments: '{"service":"db"}' },
          ],
        }),
      },
      { json: chatCompletion({ content: "api deployed, db refused" }) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES, {
      approvalHandler: (r) => ({ approved: (r.args as { service: string }).service === "api", approvedBy: "alice" }),
    });
    const log: string[] = [];
    const runner = client.chat.completions.runTools({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "deploy" }],
      tools: gateRunTools([...runToolsTools(log)], gate),
    });
    await runner.finalContent();
    expect(log).toEqual(["deploy:api"]);
    const tools = (fake.requests[1]!.body.messages as any[]).filter((m) => m.role === "tool");
    expect(tools[0].content).toBe("deployed api");
    expect(JSON.parse(tools[1].content)).toMatchObject({ denied: true, code: "approval_denied" });
  });

  it("without a handler, escalation ends the run; the app approves and resumes with runToolCalls (siblings do not run twice)", async () => {
    fake = await FakeOpenAI.start([
      {
        json: chatCompletion({
          tool_calls: [
            { id: "call_srch", name: "search", arguments: '{"query":"x"}' },
            { id: "call_dep", name: "deploy", arguments: '{"service":"web"}' },
          ],
        }),
      },
      { json: chatCompletion({ content: "Deployed web." }) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const tools = runToolsTools(log);
    const runner = client.chat.completions.runTools({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "deploy" }],
      tools: gateRunTools([...tools], gate),
    });
    const error = await runner.finalContent().then(
      () => undefined,
      (e: unknown) => e,
    );
    const escalated = findGateError(error);
    expect(ToolCallEscalatedError.isInstance(escalated)).toBe(true);
    if (!ToolCallEscalatedError.isInstance(escalated)) return;
    expect(escalated.toolCall).toEqual({ id: "call_dep", name: "deploy", arguments: '{"service":"web"}' });
    expect((await gate.pendingEscalations()).map((p) => p.escalationId)).toEqual([escalated.escalationId]);
    expect(log).toEqual(["search:x"]);

    await gate.resolveEscalation(escalated.escalationId, { approved: true, approvedBy: "carol" });
    const results = await runToolCalls(escalated.toolCalls, { gate, tools: [...tools] });
    expect(results.map((r) => [r.callId, r.status, r.replayed])).toEqual([
      ["call_srch", "ran", true],
      ["call_dep", "ran", false],
    ]);
    const resumed = client.chat.completions.runTools({
      model: "gpt-4.1-mini",
      messages: [...escalated.messages, ...results.map((r) => r.item)],
      tools: gateRunTools([...tools], gate),
    });
    expect(await resumed.finalContent()).toBe("Deployed web.");
    expect(log).toEqual(["search:x", "deploy:web"]);
    const sent = (fake.requests[1]!.body.messages as any[]).filter((m) => m.role === "tool").map((m) => m.content);
    expect(sent).toEqual(['{"hits":["x.md"]}', "deployed web"]);
  });

  it('escalation: "deny" lets the model read that a human must approve', async () => {
    fake = await FakeOpenAI.start([
      { json: chatCompletion({ tool_calls: [{ id: "call_e", name: "deploy", arguments: '{"service":"web"}' }] }) },
      { json: chatCompletion({ content: "Waiting for approval." }) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const runner = client.chat.completions.runTools({
      model: "gpt-4.1-mini",
      messages: [{ role: "user", content: "deploy" }],
      tools: gateRunTools([...runToolsTools(log)], gate, { escalation: "deny" }),
    });
    expect(await runner.finalContent()).toBe("Waiting for approval.");
    const tool = (fake.requests[1]!.body.messages as any[]).find((m) => m.role === "tool");
    expect(JSON.parse(tool.content)).toMatchObject({ denied: true, decision: "escalate" });
    expect(log).toEqual([]);
  });

  it("a history that repeats an executed call id does not run it again", async () => {
    const call = { id: "call_rep", name: "search", arguments: '{"query":"r"}' };
    fake = await FakeOpenAI.start([
      { json: chatCompletion({ tool_calls: [call] }) },
      { json: chatCompletion({ content: "one" }) },
      { json: chatCompletion({ tool_calls: [call] }) },
      { json: chatCompletion({ content: "two" }) },
    ]);
    const client = makeClient(fake.baseURL);
    const gate = await makeGate(RULES);
    const log: string[] = [];
    const tools = gateRunTools([...runToolsTools(log)], gate);
    await client.chat.completions
      .runTools({ model: "gpt-4.1-mini", messages: [{ role: "user", content: "a" }], tools })
      .finalContent();
    await client.chat.completions
      .runTools({ model: "gpt-4.1-mini", messages: [{ role: "user", content: "b" }], tools })
      .finalContent();
    expect(log).toEqual(["search:r"]);
    const replayedTool = (fake.requests[3]!.body.messages as any[]).find((m) => m.role === "tool");
    expect(replayedTool.content).toBe('{"hits":["r.md"]}');
  });
});
