import { deniedToolResult, PermissionDeniedError } from "@agentgate/core";
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import type { ToolCall } from "@langchain/core/messages/tool";
import { MemorySaver } from "@langchain/langgraph";
import { createAgent, createMiddleware } from "langchain";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { GateCallbackHandler } from "./gate-callback-handler.js";
import { baseRules, callId, makeGate, makeTools } from "./test-utils/fixtures.js";

type Tools = ReturnType<typeof makeTools>;
type Invokable = { name: string; invoke(call: ToolCall, config: object): Promise<ToolMessage> };

/** The PermissionDeniedError a blocked call rejects with (fails the test if it resolves). */
async function blockedBy(promise: Promise<unknown>): Promise<PermissionDeniedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!PermissionDeniedError.isInstance(error))
    throw new Error(`expected a PermissionDeniedError, got ${String(error)}`);
  return error;
}

/**
 * A plain tool-calling loop, no agent framework: the model proposes tool
 * calls, the loop runs them, a blocked call becomes the message the model reads.
 */
async function plainLoop(
  model: ReturnType<typeof fakeModel>,
  tools: Tools,
  handler: GateCallbackHandler,
  maxTurns = 4,
) {
  const all = [tools.search, tools.deploy, tools.shell] as unknown as Invokable[];
  const byName = new Map(all.map((t) => [t.name, t]));
  const bound = model.bindTools([tools.search, tools.deploy, tools.shell]);
  const messages: BaseMessage[] = [new HumanMessage("go")];
  const blocked: PermissionDeniedError[] = [];
  for (let turn = 0; turn < maxTurns; turn++) {
    const ai = await bound.invoke(messages, { callbacks: [handler] });
    messages.push(ai);
    if (!ai.tool_calls?.length) break;
    for (const call of ai.tool_calls) {
      try {
        messages.push(await byName.get(call.name)!.invoke(call as ToolCall, { callbacks: [handler] }));
      } catch (error) {
        if (!PermissionDeniedError.isInstance(error)) throw error;
        blocked.push(error);
        messages.push(
          new ToolMessage({
            content: JSON.stringify(deniedToolResult(error.decision)),
            tool_call_id: call.id!,
            name: call.name,
            status: "error",
          }),
        );
      }
    }
  }
  return { messages, blocked };
}

describe("GateCallbackHandler", () => {
  // LangChain logs every error a raiseError handler throws; keep it out of the test output (and check it).
  let logged: MockInstance<typeof console.error>;
  beforeEach(() => {
    logged = vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => logged.mockRestore());

  it("is built to block: raiseError and awaited handlers come from the constructor", async () => {
    const handler = new GateCallbackHandler(await makeGate());
    expect(handler.raiseError).toBe(true);
    expect(handler.awaitHandlers).toBe(true);
    const copy = handler.copy();
    expect(copy).toBeInstanceOf(GateCallbackHandler);
    expect(copy.raiseError).toBe(true);
    expect(() => new GateCallbackHandler(undefined as never)).toThrow(TypeError);
  });

  it("blocks a denied tool in a plain tool-calling loop: its function never runs, allowed tools do", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const ids = { search: callId(), shell: callId() };
    const model = fakeModel()
      .respondWithTools([
        { name: "search", args: { query: "logs" }, id: ids.search },
        { name: "shell", args: { cmd: "cat /etc/shadow" }, id: ids.shell },
      ])
      .respond(new AIMessage("done"));

    const { messages, blocked } = await plainLoop(model, tools, new GateCallbackHandler(gate));

    expect(tools.runs).toEqual(["search:logs"]);
    expect(blocked).toHaveLength(1);
    expect(blocked[0]!.decision).toMatchObject({
      type: "deny",
      action: "tool_use",
      target: "shell",
      callId: ids.shell,
    });
    expect(blocked[0]!.message).toContain("not in allowed_targets");
    // The model's next prompt carried the reason.
    const seen = model.calls[1]!.messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
    expect(seen.map((m) => m.tool_call_id)).toEqual([ids.search, ids.shell]);
    expect(JSON.parse(String(seen[1]!.content))).toMatchObject({ denied: true, code: "target_not_allowed" });
    expect(messages.at(-1)?.content).toBe("done");
    expect(logged).toHaveBeenCalledWith(
      expect.stringMatching(/^Error in handler GateCallbackHandler, handleToolStart: PermissionDeniedError/),
    );
  });

  it("checks the tool's input through the mapping", async () => {
    const gate = await makeGate([
      { action: "tool_use", allowed: true, allowedTargets: ["search"] },
      { action: "llm_call", allowed: true },
      { action: "shell", allowed: true, allowedTargets: ["ls **"] },
    ]);
    const tools = makeTools();
    const handler = new GateCallbackHandler(gate, { mapping: { shell: { action: "shell", target: (i) => i.cmd } } });

    await tools.shell.invoke(
      { name: "shell", args: { cmd: "ls /tmp" }, id: callId(), type: "tool_call" },
      { callbacks: [handler] },
    );
    await expect(
      tools.shell.invoke(
        { name: "shell", args: { cmd: "rm -rf /" }, id: callId(), type: "tool_call" },
        { callbacks: [handler] },
      ),
    ).rejects.toSatisfy(PermissionDeniedError.isInstance);

    expect(tools.runs).toEqual(["shell:ls /tmp"]);
    expect(gate.decisions.map((d) => [d.action, d.target, d.type])).toEqual([
      ["shell", "ls /tmp", "allow"],
      ["shell", "rm -rf /", "deny"],
    ]);
  });

  it("blocks a model call before the model runs", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]); // no llm_call rule: denied by default
    const model = fakeModel().respond(new AIMessage("should not be produced"));

    const error = await blockedBy(
      model.invoke([new HumanMessage("hi")], { callbacks: [new GateCallbackHandler(gate)] }),
    );

    expect(error.decision).toMatchObject({ action: "llm_call", code: "no_rule", target: "FakeBuiltModel" });
    expect(model.callCount).toBe(0);
  });

  it("enforces an llm_call rate limit across a run", async () => {
    const gate = await makeGate([
      { action: "tool_use", allowed: true, allowedTargets: ["search"] },
      { action: "llm_call", allowed: true, maxPerMinute: 2 },
    ]);
    const tools = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "search", args: { query: "a" }, id: callId() }])
      .respondWithTools([{ name: "search", args: { query: "b" }, id: callId() }])
      .respond(new AIMessage("never"));

    const error = await blockedBy(plainLoop(model, tools, new GateCallbackHandler(gate)));

    expect(error.decision).toMatchObject({ code: "rate_limit", action: "llm_call" });
    expect(model.callCount).toBe(2);
  });

  it("toolCalls: false leaves tool calls alone (for tools wrapped with gateTools)", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true }]);
    const tools = makeTools();
    await tools.shell.invoke({ cmd: "id" }, { callbacks: [new GateCallbackHandler(gate, { toolCalls: false })] });
    expect(tools.runs).toEqual(["shell:id"]);
    expect(gate.decisions).toEqual([]);
  });

  it("modelCalls: false leaves model calls alone", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const model = fakeModel().respond(new AIMessage("hi"));
    await model.invoke([new HumanMessage("hi")], { callbacks: [new GateCallbackHandler(gate, { modelCalls: false })] });
    expect(gate.decisions).toEqual([]);
  });

  it("an escalation blocks; once resolved, retrying the same tool call gets the settled decision", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const handler = new GateCallbackHandler(gate);
    const call = { name: "deploy", args: { env: "prod" }, id: callId(), type: "tool_call" as const };

    const first = await blockedBy(tools.deploy.invoke(call, { callbacks: [handler] }));
    expect(first.decision).toMatchObject({ type: "escalate", callId: call.id });
    expect(tools.runs).toEqual([]);

    await gate.resolveEscalation(first.decision.escalationId!, { approved: true, approvedBy: "alice" });
    const output = await tools.deploy.invoke(call, { callbacks: [handler] });

    expect(output.content).toBe("deployed to prod");
    expect(tools.runs).toEqual(["deploy:prod"]);
  });

  it("in createAgent without middleware, a denial becomes a tool error message holding only the gate's reason", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "shell", args: { cmd: "id" }, id: callId() }])
      .respond(new AIMessage("ok"));
    const agent = createAgent({ model, tools: [tools.search, tools.shell] });

    const result = await agent.invoke(
      { messages: [{ role: "user", content: "go" }] },
      { callbacks: [new GateCallbackHandler(gate)] },
    );

    expect(tools.runs).toEqual([]);
    const message = result.messages.find((m): m is ToolMessage => ToolMessage.isInstance(m));
    expect(message?.status).toBe("error");
    expect(String(message?.content)).toContain("not in allowed_targets");
    expect(String(message?.content)).toMatch(/^AgentGate deny: /);
    expect(String(message?.content)).not.toContain("Please fix your mistakes");
  });

  it("next to a wrapToolCall middleware, a denial is a tool error message too (the run goes on)", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const passThrough = createMiddleware({ name: "PassThrough", wrapToolCall: (request, handler) => handler(request) });
    const model = fakeModel()
      .respondWithTools([{ name: "shell", args: { cmd: "id" }, id: callId() }])
      .respond(new AIMessage("ok"));
    const agent = createAgent({
      model,
      tools: [tools.shell],
      middleware: [passThrough],
      checkpointer: new MemorySaver(),
    });

    const result = await agent.invoke(
      { messages: [{ role: "user", content: "go" }] },
      { callbacks: [new GateCallbackHandler(gate)], configurable: { thread_id: "t" } },
    );
    expect(tools.runs).toEqual([]);
    const message = result.messages.find((m): m is ToolMessage => ToolMessage.isInstance(m));
    expect(message?.status).toBe("error");
    expect(String(message?.content)).toMatch(/^AgentGate deny: .*not in allowed_targets/);
    expect(String(message?.content)).not.toContain("Please fix");
    expect(result.messages.at(-1)?.content).toBe("ok");
  });

  it("an error inside the gate blocks (fail closed)", async () => {
    const gate = await makeGate(baseRules, {
      store: {
        consume: () => {
          throw new Error("store down");
        },
        claimCall: () => {
          throw new Error("store down");
        },
        createEscalation: () => {},
        getEscalation: () => undefined,
        settleEscalation: () => ({ ok: false, reason: "unknown" }),
        listEscalations: () => [],
      },
    });
    const tools = makeTools();
    const error = await blockedBy(
      tools.deploy.invoke(
        { name: "deploy", args: { env: "prod" }, id: callId(), type: "tool_call" },
        { callbacks: [new GateCallbackHandler(gate)] },
      ),
    );
    expect(error.decision).toMatchObject({ type: "deny", code: "store_unavailable" });
    expect(tools.runs).toEqual([]);
  });

  it("fails closed when it cannot tell which tool is starting", async () => {
    const gate = await makeGate();
    const handler = new GateCallbackHandler(gate);
    const error = await blockedBy(
      handler.handleToolStart(
        { lc: 1, type: "not_implemented", id: ["x"] },
        "{}",
        "run",
        undefined,
        undefined,
        undefined,
        undefined,
        "c1",
      ),
    );
    expect(error.decision).toMatchObject({ type: "deny", code: "invalid_input" });
    expect(error.reason).toMatch(/no tool name/);
  });
});
