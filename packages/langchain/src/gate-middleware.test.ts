import { GateKeeper, type Decision } from "@agentgate/core";
import { AIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { Command, MemorySaver, type Interrupt } from "@langchain/langgraph";
import { createAgent, createMiddleware } from "langchain";
import { describe, expect, it } from "vitest";
import { isGateInterrupt, type GateInterruptValue } from "./approval-interrupt.js";
import { gateMiddleware } from "./gate-middleware.js";
import { baseRules, callId, makeGate, makeTools } from "./test-utils/fixtures.js";

const ask = { messages: [{ role: "user", content: "go" }] };

function thread() {
  return { configurable: { thread_id: globalThis.crypto.randomUUID() } };
}

/** A `createAgent` loop with the gate's middleware and a checkpointer (interrupts need one). */
function gatedAgent(
  model: ReturnType<typeof fakeModel>,
  tools: ReturnType<typeof makeTools>["search" | "deploy" | "shell"][],
  ...middleware: Parameters<typeof gateMiddleware>
) {
  return createAgent({ model, tools, middleware: [gateMiddleware(...middleware)], checkpointer: new MemorySaver() });
}

function toolMessages(messages: BaseMessage[]): ToolMessage[] {
  return messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
}

function parseDenial(message: ToolMessage): { denied: true; decision: string; code: string; reason: string } {
  return JSON.parse(String(message.content));
}

function gateInterrupts(result: { __interrupt__?: Interrupt[] }): (Interrupt & { value: GateInterruptValue })[] {
  return (result.__interrupt__ ?? []).filter((i): i is Interrupt & { value: GateInterruptValue } =>
    isGateInterrupt(i.value),
  );
}

describe("gateMiddleware in a createAgent loop", () => {
  it("runs an allowed tool and records the decision", async () => {
    const gate = await makeGate();
    const { runs, search } = makeTools();
    const id = callId();
    const model = fakeModel()
      .respondWithTools([{ name: "search", args: { query: "gates" }, id }])
      .respond(new AIMessage("done"));
    const agent = gatedAgent(model, [search], gate);

    const result = await agent.invoke(ask, thread());

    expect(runs).toEqual(["search:gates"]);
    const [message] = toolMessages(result.messages);
    expect(message?.content).toBe("results for gates");
    expect(message?.status).not.toBe("error");
    const toolDecision = gate.decisions.find((d) => d.action === "tool_use");
    expect(toolDecision).toMatchObject({ type: "allow", target: "search", callId: id });
    expect(gate.decisions.filter((d) => d.action === "llm_call")).toHaveLength(2);
  });

  it("never runs a denied tool, and the model reads the reason in an error ToolMessage", async () => {
    const gate = await makeGate();
    const { runs, search, shell } = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "shell", args: { cmd: "rm -rf /" }, id: callId() }])
      .respond(new AIMessage("ok"));
    const agent = gatedAgent(model, [search, shell], gate);

    const result = await agent.invoke(ask, thread());

    expect(runs).toEqual([]);
    const [message] = toolMessages(result.messages);
    expect(message?.status).toBe("error");
    const denial = parseDenial(message!);
    expect(denial).toMatchObject({ denied: true, decision: "deny", code: "target_not_allowed" });
    const decision = gate.decisions.find((d) => d.action === "tool_use");
    expect(denial.reason).toBe(decision?.reason);
    // The model's second call saw the denial.
    const seen = toolMessages(model.calls[1]!.messages);
    expect(parseDenial(seen[0]!).reason).toBe(decision!.reason);
    expect(result.messages.at(-1)?.content).toBe("ok");
  });

  it("maps tools to actions: a tool mapped to `shell` is denied by the shell rule", async () => {
    const gate = await makeGate();
    const { runs, shell } = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "shell", args: { cmd: "ls" }, id: callId() }])
      .respond(new AIMessage("ok"));
    const mapping = { shell: { action: "shell", target: (i: { cmd: string }) => i.cmd } };
    const agent = gatedAgent(model, [shell], gate, { mapping });

    const result = await agent.invoke(ask, thread());

    expect(runs).toEqual([]);
    expect(parseDenial(toolMessages(result.messages)[0]!)).toMatchObject({ code: "not_allowed" });
    expect(gate.decisions.find((d) => d.action === "shell")).toMatchObject({ type: "deny", target: "ls" });
  });

  it("escalation pauses with an interrupt; an approval resumes and runs the tool exactly once", async () => {
    const gate = await makeGate();
    const { runs, deploy } = makeTools();
    const id = callId();
    const model = fakeModel()
      .respondWithTools([{ name: "deploy", args: { env: "prod" }, id }])
      .respond(new AIMessage("deployed"));
    const agent = gatedAgent(model, [deploy], gate);
    const config = thread();

    const paused = await agent.invoke(ask, config);

    expect(runs).toEqual([]);
    const [pending] = gateInterrupts(paused);
    expect(pending?.value).toMatchObject({
      type: "agentgate.approval",
      callId: id,
      toolName: "deploy",
      args: { env: "prod" },
      action: "tool_use",
      target: "deploy",
    });
    expect(pending?.value.reason).toMatch(/escalate/);
    expect(pending?.value.agent).toEqual({ id: gate.identity.id, name: gate.identity.name });
    expect((await gate.pendingEscalations()).map((r) => r.escalationId)).toEqual([pending!.value.escalationId]);

    const done = await agent.invoke(new Command({ resume: { approved: true, approvedBy: "alice" } }), config);

    expect(runs).toEqual(["deploy:prod"]);
    expect(done.__interrupt__).toBeUndefined();
    expect(toolMessages(done.messages)[0]?.content).toBe("deployed to prod");
    expect(await gate.pendingEscalations()).toEqual([]);
    const approved = gate.decisions.find((d) => d.code === "approved");
    expect(approved).toMatchObject({
      type: "allow",
      approvedBy: "alice",
      callId: id,
      escalationId: pending!.value.escalationId,
    });
    expect(done.messages.at(-1)?.content).toBe("deployed");
  });

  it("a rejection on resume never runs the tool; the model reads the human's reason", async () => {
    const gate = await makeGate();
    const { runs, deploy } = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
      .respond(new AIMessage("fine"));
    const agent = gatedAgent(model, [deploy], gate);
    const config = thread();

    await agent.invoke(ask, config);
    const done = await agent.invoke(
      new Command({ resume: { approved: false, approvedBy: "bob", reason: "not on a Friday" } }),
      config,
    );

    expect(runs).toEqual([]);
    const [message] = toolMessages(done.messages);
    expect(message?.status).toBe("error");
    expect(parseDenial(message!)).toMatchObject({ decision: "deny", code: "approval_denied" });
    expect(parseDenial(message!).reason).toContain("not on a Friday");
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it.each([
    ["a string", "yes"],
    ["a truthy number", 1],
    ["an object without a boolean", { approved: "true" }],
    ["an array", [true]],
  ])("a malformed resume value (%s) counts as not approved", async (_label, resume) => {
    const gate = await makeGate();
    const { runs, deploy } = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
      .respond(new AIMessage("fine"));
    const agent = gatedAgent(model, [deploy], gate);
    const config = thread();

    await agent.invoke(ask, config);
    const done = await agent.invoke(new Command({ resume }), config);

    expect(runs).toEqual([]);
    expect(parseDenial(toolMessages(done.messages)[0]!)).toMatchObject({ decision: "deny", code: "approval_error" });
  });

  describe("forged resumes are refused", () => {
    it("an approval resumed through a gate that never issued the escalation", async () => {
      const issuing = await makeGate();
      const checkpointer = new MemorySaver();
      const first = makeTools();
      const model = fakeModel()
        .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
        .respond(new AIMessage("fine"));
      const config = thread();
      const agentA = createAgent({ model, tools: [first.deploy], middleware: [gateMiddleware(issuing)], checkpointer });
      await agentA.invoke(ask, config);

      // Same saved run, but a gate with no record of that escalation (e.g. a restarted process with an in-memory store).
      const other = new GateKeeper({ identity: issuing.identity, policy: issuing.policy });
      const agentB = createAgent({ model, tools: [first.deploy], middleware: [gateMiddleware(other)], checkpointer });
      const done = await agentB.invoke(new Command({ resume: { approved: true, approvedBy: "mallory" } }), config);

      expect(first.runs).toEqual([]);
      const denial = parseDenial(toolMessages(done.messages)[0]!);
      expect(denial).toMatchObject({ decision: "deny", code: "approval_error" });
      expect(denial.reason).toMatch(/does not answer an escalation this gate issued/);
      expect(other.decisions.some((d) => d.type === "allow" && d.action === "tool_use")).toBe(false);
      expect(await other.pendingEscalations()).toEqual([]);
    });

    it("an approval that names another escalation", async () => {
      const gate = await makeGate();
      const { runs, deploy } = makeTools();
      const model = fakeModel()
        .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
        .respond(new AIMessage("fine"));
      const agent = gatedAgent(model, [deploy], gate);
      const config = thread();

      await agent.invoke(ask, config);
      const done = await agent.invoke(new Command({ resume: { approved: true, escalationId: "made-up" } }), config);

      expect(runs).toEqual([]);
      expect(parseDenial(toolMessages(done.messages)[0]!).reason).toMatch(/answers escalation "made-up"/);
    });

    it("an approval after the gate already settled the escalation as rejected", async () => {
      const gate = await makeGate();
      const { runs, deploy } = makeTools();
      const model = fakeModel()
        .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
        .respond(new AIMessage("fine"));
      const agent = gatedAgent(model, [deploy], gate);
      const config = thread();

      const paused = await agent.invoke(ask, config);
      const [pending] = gateInterrupts(paused);
      await gate.resolveEscalation(pending!.value.escalationId, {
        approved: false,
        approvedBy: "security",
        reason: "frozen",
      });
      const done = await agent.invoke(new Command({ resume: { approved: true, approvedBy: "mallory" } }), config);

      expect(runs).toEqual([]);
      expect(parseDenial(toolMessages(done.messages)[0]!)).toMatchObject({ code: "approval_denied" });
    });

    it("an approval resumed after the saved run was edited to other arguments", async () => {
      const gate = await makeGate();
      const { runs, deploy } = makeTools();
      const id = callId();
      const model = fakeModel()
        .respondWithTools([{ name: "deploy", args: { env: "staging" }, id }])
        .respond(new AIMessage("fine"));
      const agent = gatedAgent(model, [deploy], gate);
      const config = thread();

      const paused = await agent.invoke(ask, config);
      const asked = paused.messages.find(
        (m) => AIMessage.isInstance(m) && (m.tool_calls?.length ?? 0) > 0,
      ) as AIMessage;
      // Rewrite the pending tool call in the checkpoint: same call id, other input.
      await agent.graph.updateState(config, {
        messages: [
          new AIMessage({
            id: asked.id!,
            content: "",
            tool_calls: [{ name: "deploy", args: { env: "prod" }, id, type: "tool_call" }],
          }),
        ],
      });
      const done = await agent.invoke(new Command({ resume: { approved: true, approvedBy: "alice" } }), config);

      expect(runs).toEqual([]);
      expect(gate.decisions.some((d) => d.type === "allow" && d.action === "tool_use")).toBe(false);
      const [message] = toolMessages(done.messages);
      expect(message?.tool_call_id).toBe(id);
      expect(parseDenial(message!)).toMatchObject({ decision: "deny", code: "call_mismatch" });
    });

    it("an approval the requesting agent gives itself", async () => {
      const gate = await makeGate();
      const { runs, deploy } = makeTools();
      const model = fakeModel()
        .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
        .respond(new AIMessage("fine"));
      const agent = gatedAgent(model, [deploy], gate);
      const config = thread();

      await agent.invoke(ask, config);
      const done = await agent.invoke(
        new Command({ resume: { approved: true, approvedBy: gate.identity.name } }),
        config,
      );

      expect(runs).toEqual([]);
      expect(parseDenial(toolMessages(done.messages)[0]!)).toMatchObject({ code: "self_approval" });
    });
  });

  it("parallel tool calls each get their own decision and their own ToolMessage", async () => {
    const gate = await makeGate();
    const { runs, search, deploy, shell } = makeTools();
    const ids = { search: callId("s"), shell: callId("x"), deploy: callId("d"), deploy2: callId("d2") };
    const model = fakeModel()
      .respondWithTools([
        { name: "search", args: { query: "status" }, id: ids.search },
        { name: "shell", args: { cmd: "whoami" }, id: ids.shell },
        { name: "deploy", args: { env: "prod" }, id: ids.deploy },
        { name: "deploy", args: { env: "staging" }, id: ids.deploy2 },
      ])
      .respond(new AIMessage("all done"));
    const agent = gatedAgent(model, [search, deploy, shell], gate);
    const config = thread();

    const paused = await agent.invoke(ask, config);

    // The allowed call already ran; the denied one never; both deploys wait.
    expect(runs).toEqual(["search:status"]);
    const waiting = gateInterrupts(paused);
    expect(waiting.map((i) => i.value.callId).sort()).toEqual([ids.deploy, ids.deploy2].sort());

    // Answer each interrupt by id: approve prod, reject staging.
    const resume = Object.fromEntries(
      waiting.map((i) => [
        i.id,
        i.value.args && (i.value.args as { env: string }).env === "prod"
          ? { approved: true, approvedBy: "alice" }
          : { approved: false, reason: "no" },
      ]),
    );
    const done = await agent.invoke(new Command({ resume }), config);

    expect(runs.sort()).toEqual(["deploy:prod", "search:status"]);
    const byId = new Map(toolMessages(done.messages).map((m) => [m.tool_call_id, m]));
    expect(byId.size).toBe(4);
    expect(byId.get(ids.search)?.content).toBe("results for status");
    expect(byId.get(ids.shell)?.status).toBe("error");
    expect(byId.get(ids.deploy)?.content).toBe("deployed to prod");
    expect(parseDenial(byId.get(ids.deploy2)!)).toMatchObject({ code: "approval_denied" });
    expect(done.messages.at(-1)?.content).toBe("all done");
  });

  it("an approval that names its escalation answers only that call when one value resumes several", async () => {
    const gate = await makeGate();
    const { runs, deploy } = makeTools();
    const model = fakeModel()
      .respondWithTools([
        { name: "deploy", args: { env: "prod" }, id: callId("a") },
        { name: "deploy", args: { env: "staging" }, id: callId("b") },
      ])
      .respond(new AIMessage("ok"));
    const agent = gatedAgent(model, [deploy], gate);
    const config = thread();

    const paused = await agent.invoke(ask, config);
    const staging = gateInterrupts(paused).find((i) => (i.value.args as { env: string }).env === "staging")!;
    const done = await agent.invoke(
      new Command({ resume: { approved: true, escalationId: staging.value.escalationId } }),
      config,
    );

    expect(runs).toEqual(["deploy:staging"]);
    expect(toolMessages(done.messages).filter((m) => m.status === "error")).toHaveLength(1);
  });

  it("a rate limit on llm_call stops the loop with a message that says why", async () => {
    const gate = await makeGate([
      { action: "tool_use", allowed: true, allowedTargets: ["search"] },
      { action: "llm_call", allowed: true, maxPerMinute: 2 },
    ]);
    const { runs, search } = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "search", args: { query: "one" }, id: callId() }])
      .respondWithTools([{ name: "search", args: { query: "two" }, id: callId() }])
      .respondWithTools([{ name: "search", args: { query: "three" }, id: callId() }])
      .respond(new AIMessage("never"));
    const agent = gatedAgent(model, [search], gate);

    const result = await agent.invoke(ask, thread());

    expect(model.callCount).toBe(2);
    expect(runs).toEqual(["search:one", "search:two"]);
    const last = result.messages.at(-1) as AIMessage;
    expect(AIMessage.isInstance(last)).toBe(true);
    expect(String(last.content)).toMatch(/AgentGate blocked the model call: .*max_per_minute/);
    const blocked = last.response_metadata.agentgate as Decision;
    expect(blocked).toMatchObject({ type: "deny", code: "rate_limit", action: "llm_call", target: "FakeBuiltModel" });
    expect(blocked.retryAfterMs).toBeGreaterThan(0);
  });

  it("modelCalls: false leaves model calls unchecked", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, allowedTargets: ["search"] }]);
    const { search } = makeTools();
    const model = fakeModel().respond(new AIMessage("hi"));
    const agent = createAgent({ model, tools: [search], middleware: [gateMiddleware(gate, { modelCalls: false })] });

    const result = await agent.invoke(ask);

    expect(result.messages.at(-1)?.content).toBe("hi");
    expect(gate.decisions).toEqual([]);
  });

  it("without a checkpointer an escalation is refused with a reason that says a checkpointer is needed", async () => {
    const gate = await makeGate();
    const { runs, deploy } = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
      .respond(new AIMessage("x"));
    const agent = createAgent({ model, tools: [deploy], middleware: [gateMiddleware(gate)] });

    const done = await agent.invoke(ask);
    expect(runs).toEqual([]);
    expect(parseDenial(toolMessages(done.messages)[0]!)).toMatchObject({
      denied: true,
      code: "approval_error",
      reason: expect.stringMatching(/no checkpointer.*stays pending/),
    });
    // Left pending, like gateTools and GateCallbackHandler: resolveEscalation then a retry of the call.
    expect(await gate.pendingEscalations()).toHaveLength(1);
  });

  it("with an approval handler on the gate, no interrupt and no checkpointer are needed", async () => {
    const asked: unknown[] = [];
    const gate = await makeGate(baseRules, {
      approvalHandler: (request) => {
        asked.push(request);
        return { approved: true, approvedBy: "pager" };
      },
    });
    const { runs, deploy } = makeTools();
    const id = callId();
    const model = fakeModel()
      .respondWithTools([{ name: "deploy", args: { env: "prod" }, id }])
      .respond(new AIMessage("x"));
    const agent = createAgent({ model, tools: [deploy], middleware: [gateMiddleware(gate)] });

    const result = await agent.invoke(ask);

    expect(result.__interrupt__).toBeUndefined();
    expect(runs).toEqual(["deploy:prod"]);
    expect(asked).toEqual([
      expect.objectContaining({ callId: id, action: "tool_use", target: "deploy", args: { env: "prod" } }),
    ]);
  });

  it("an error inside the gate is a denial, never a run and never a crash", async () => {
    class BrokenGate extends GateKeeper {
      override async checkToolCall(): Promise<Decision> {
        throw new Error("disk on fire");
      }
    }
    const healthy = await makeGate();
    const gate = new BrokenGate({ identity: healthy.identity, policy: healthy.policy });
    const { runs, search } = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "search", args: { query: "q" }, id: callId() }])
      .respond(new AIMessage("x"));
    const agent = gatedAgent(model, [search], gate);

    const result = await agent.invoke(ask, thread());

    expect(runs).toEqual([]);
    const denial = parseDenial(toolMessages(result.messages)[0]!);
    expect(denial).toMatchObject({ decision: "deny", code: "internal_error" });
    expect(denial.reason).toContain("disk on fire");
  });

  it("leaves LangGraph interrupts raised by the tool itself alone", async () => {
    const gate = await makeGate();
    const { runs, search } = makeTools();
    const { interrupt } = await import("@langchain/langgraph");
    const asking = createMiddleware({
      name: "Inner",
      wrapToolCall: (request, handler) => {
        const answer = interrupt({ inner: true });
        runs.push(`inner:${String(answer)}`);
        return handler(request);
      },
    });
    const model = fakeModel()
      .respondWithTools([{ name: "search", args: { query: "q" }, id: callId() }])
      .respond(new AIMessage("x"));
    const agent = createAgent({
      model,
      tools: [search],
      middleware: [gateMiddleware(gate), asking],
      checkpointer: new MemorySaver(),
    });
    const config = thread();

    const paused = await agent.invoke(ask, config);
    expect(paused.__interrupt__?.[0]?.value).toEqual({ inner: true });
    await agent.invoke(new Command({ resume: "fine" }), config);
    expect(runs).toEqual(["inner:fine", "search:q"]);
  });
});
