import { AIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { Command, MemorySaver, type Interrupt } from "@langchain/langgraph";
import { createAgent, humanInTheLoopMiddleware, type HITLRequest, type HITLResponse } from "langchain";
import { describe, expect, it } from "vitest";
import { gateMiddleware } from "./gate-middleware.js";
import { baseRules, callId, makeGate, makeTools } from "./test-utils/fixtures.js";

// LangChain's documented human-in-the-loop loop (the shape of its official HITL
// example): invoke; while the run is interrupted, show each HITLRequest to a
// human, resume with a HITLResponse. The gate is added the way the README says,
// and nothing in this loop changes.
type Decide = (action: HITLRequest["actionRequests"][number]) => HITLResponse["decisions"][number];
interface Agent {
  // A method (bivariant parameters), so any createAgent result fits.
  invoke(
    input: { messages: { role: string; content: string }[] } | Command,
    config: { configurable: { thread_id: string } },
  ): Promise<{ messages: BaseMessage[]; __interrupt__?: Interrupt[] }>;
}

async function approvalLoop(agent: Agent, decide: Decide) {
  const config = { configurable: { thread_id: globalThis.crypto.randomUUID() } };
  const questions: HITLRequest[] = [];
  let result = await agent.invoke({ messages: [{ role: "user", content: "Ship it" }] }, config);
  while (result.__interrupt__?.length) {
    const answers = result.__interrupt__.map((i) => {
      const request = i.value as HITLRequest;
      questions.push(request);
      return [i.id!, { decisions: request.actionRequests.map(decide) } satisfies HITLResponse] as const;
    });
    const resume = answers.length === 1 ? answers[0]![1] : Object.fromEntries(answers);
    result = await agent.invoke(new Command({ resume }), config);
  }
  return { result, questions, config };
}

const approve: Decide = () => ({ type: "approve" });

function toolMessages(messages: BaseMessage[]): ToolMessage[] {
  return messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
}

/** What a run said, without ids that differ between runs. */
function transcript(messages: BaseMessage[]) {
  return messages.map((m) => ({
    type: m.getType(),
    content: m.content,
    toolCalls: AIMessage.isInstance(m)
      ? m.tool_calls?.map((c) => ({ name: c.name, args: c.args, id: c.id }))
      : undefined,
    toolCallId: ToolMessage.isInstance(m) ? m.tool_call_id : undefined,
    status: ToolMessage.isInstance(m) ? m.status : undefined,
  }));
}

function scriptedModel(calls: { name: string; args: Record<string, unknown>; id: string }[]) {
  return fakeModel().respondWithTools(calls).respond(new AIMessage("Done."));
}

const deployRules = [
  { action: "tool_use", allowed: true, allowedTargets: ["search"] },
  { action: "deploy", allowed: true, allowedTargets: ["staging", "prod"], escalateTargets: ["prod"] },
  { action: "llm_call", allowed: true, maxPerMinute: 100 },
];
const deployMapping = { deploy: { action: "deploy", target: (i: unknown) => (i as { env?: string }).env } };

describe("LangChain's documented HITL approval loop, gated", () => {
  it("permissive policy: same questions, messages and results as the ungated loop", async () => {
    const calls = [
      { name: "search", args: { query: "status" }, id: "c_search" },
      { name: "deploy", args: { env: "prod" }, id: "c_deploy" },
    ];
    const hitl = () => humanInTheLoopMiddleware({ interruptOn: { deploy: true } });
    const plain = makeTools();
    const ungated = await approvalLoop(
      createAgent({
        model: scriptedModel(calls),
        tools: [plain.search, plain.deploy],
        middleware: [hitl()],
        checkpointer: new MemorySaver(),
      }),
      approve,
    );
    const gate = await makeGate([
      { action: "tool_use", allowed: true },
      { action: "llm_call", allowed: true },
    ]);
    const tools = makeTools();
    const gated = await approvalLoop(
      createAgent({
        model: scriptedModel(calls),
        tools: [tools.search, tools.deploy],
        middleware: [hitl(), gateMiddleware(gate)],
        checkpointer: new MemorySaver(),
      }),
      approve,
    );

    expect(ungated.questions).toHaveLength(1);
    expect(gated.questions).toEqual(ungated.questions);
    expect(transcript(gated.result.messages)).toEqual(transcript(ungated.result.messages));
    expect(tools.runs).toEqual(plain.runs);
    expect(tools.runs).toEqual(["search:status", "deploy:prod"]);
  });

  it("escalation: one question in HITL format, answered with decisions: [approve]; the tool runs once", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const id = callId();
    const agent = createAgent({
      model: scriptedModel([{ name: "deploy", args: { env: "prod" }, id }]),
      tools: [tools.deploy],
      middleware: [gateMiddleware(gate)],
      checkpointer: new MemorySaver(),
    });

    const { result, questions } = await approvalLoop(agent, approve);

    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatchObject({
      actionRequests: [{ name: "deploy", args: { env: "prod" }, description: expect.stringContaining("AgentGate") }],
      reviewConfigs: [{ actionName: "deploy", allowedDecisions: ["approve", "edit", "reject"] }],
    });
    expect(tools.runs).toEqual(["deploy:prod"]);
    expect(toolMessages(result.messages).map((m) => m.content)).toEqual(["deployed to prod"]);
    expect(gate.decisions.filter((d) => d.code === "approved")).toMatchObject([{ type: "allow", callId: id }]);
  });

  it("reject: the tool does not run and the model reads the human's reason", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const agent = createAgent({
      model: scriptedModel([{ name: "deploy", args: { env: "prod" }, id: callId() }]),
      tools: [tools.deploy],
      middleware: [gateMiddleware(gate)],
      checkpointer: new MemorySaver(),
    });

    const { result, questions } = await approvalLoop(agent, () => ({ type: "reject", message: "not on a Friday" }));

    expect(questions).toHaveLength(1);
    expect(tools.runs).toEqual([]);
    const [message] = toolMessages(result.messages);
    expect(message?.status).toBe("error");
    expect(JSON.parse(String(message?.content))).toMatchObject({
      denied: true,
      reason: expect.stringContaining("not on a Friday"),
    });
    expect(result.messages.at(-1)?.content).toBe("Done.");
  });

  it("edit: the edited call is checked again; an allowed edit runs with the edited arguments", async () => {
    const gate = await makeGate(deployRules);
    const tools = makeTools();
    const id = callId();
    const agent = createAgent({
      model: scriptedModel([{ name: "deploy", args: { env: "prod" }, id }]),
      tools: [tools.deploy],
      middleware: [gateMiddleware(gate, { mapping: deployMapping })],
      checkpointer: new MemorySaver(),
    });

    const { result, questions } = await approvalLoop(agent, () => ({
      type: "edit",
      editedAction: { name: "deploy", args: { env: "staging" } },
    }));

    expect(questions).toHaveLength(1);
    expect(tools.runs).toEqual(["deploy:staging"]);
    expect(toolMessages(result.messages).map((m) => [m.tool_call_id, m.content])).toEqual([
      [id, "deployed to staging"],
    ]);
    // The edited call was its own check, with the edited target.
    expect(
      gate.decisions.some((d) => d.type === "allow" && d.target === "staging" && d.callId === `${id}#edited`),
    ).toBe(true);
  });

  it("edit: an edit the policy denies does not run, and the model reads the gate's reason", async () => {
    const gate = await makeGate(deployRules);
    const tools = makeTools();
    const agent = createAgent({
      model: scriptedModel([{ name: "deploy", args: { env: "prod" }, id: callId() }]),
      tools: [tools.deploy],
      middleware: [gateMiddleware(gate, { mapping: deployMapping })],
      checkpointer: new MemorySaver(),
    });

    const { result, questions } = await approvalLoop(agent, () => ({
      type: "edit",
      editedAction: { name: "deploy", args: { env: "the-moon" } },
    }));

    expect(questions).toHaveLength(1);
    expect(tools.runs).toEqual([]);
    expect(JSON.parse(String(toolMessages(result.messages)[0]?.content))).toMatchObject({
      denied: true,
      code: "target_not_allowed",
    });
  });

  it("edit: an edit into another tool is refused", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const agent = createAgent({
      model: scriptedModel([{ name: "deploy", args: { env: "prod" }, id: callId() }]),
      tools: [tools.deploy, tools.search],
      middleware: [gateMiddleware(gate)],
      checkpointer: new MemorySaver(),
    });

    const { result } = await approvalLoop(agent, () => ({
      type: "edit",
      editedAction: { name: "search", args: { query: "x" } },
    }));

    expect(tools.runs).toEqual([]);
    expect(JSON.parse(String(toolMessages(result.messages)[0]?.content))).toMatchObject({
      denied: true,
      reason: expect.stringContaining("not turn it into"),
    });
  });

  it("forged and replayed answers are refused: another interrupt's id, another escalation's id, two decisions, a replayed resume", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const agent = createAgent({
      model: fakeModel()
        .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
        .respond(new AIMessage("Done."))
        .respondWithTools([{ name: "deploy", args: { env: "prod" }, id: callId() }])
        .respond(new AIMessage("Done again.")),
      tools: [tools.deploy],
      middleware: [gateMiddleware(gate)],
      checkpointer: new MemorySaver(),
    });
    const config = { configurable: { thread_id: globalThis.crypto.randomUUID() } };
    const approveAll: HITLResponse = { decisions: [{ type: "approve" }] };

    const paused = await agent.invoke({ messages: [{ role: "user", content: "Ship it" }] }, config);
    const interrupt = paused.__interrupt__![0]!;

    // An answer addressed to an interrupt that is not this one: nothing runs, the question stays.
    const wrongId = await agent.invoke(new Command({ resume: { ["0".repeat(32)]: approveAll } }), config);
    expect(tools.runs).toEqual([]);
    expect(wrongId.__interrupt__?.map((i) => i.id)).toEqual([interrupt.id]);

    // Two decisions for one call is not an approval.
    const two = await agent.invoke(
      new Command({ resume: { decisions: [{ type: "approve" }, { type: "approve" }] } }),
      config,
    );
    expect(tools.runs).toEqual([]);
    expect(JSON.parse(String(toolMessages(two.messages)[0]?.content))).toMatchObject({
      denied: true,
      reason: expect.stringContaining("exactly one decision"),
    });

    // Second turn: an answer bound to the first call's (settled) escalation is refused.
    const again = await agent.invoke({ messages: [{ role: "user", content: "Ship it again" }] }, config);
    const second = again.__interrupt__![0]!;
    const stale = await agent.invoke(
      new Command({
        resume: { ...approveAll, escalationId: (interrupt.value as { escalationId: string }).escalationId },
      }),
      config,
    );
    expect(tools.runs).toEqual([]);
    expect(JSON.parse(String(toolMessages(stale.messages).at(-1)?.content))).toMatchObject({
      denied: true,
      reason: expect.stringContaining("approval refused"),
    });
    expect(second.id).not.toBe(interrupt.id);

    // A replayed resume after the run finished runs nothing.
    await agent.invoke(new Command({ resume: approveAll }), config).catch(() => undefined);
    expect(tools.runs).toEqual([]);
  });

  it("a replayed approval never runs a call twice", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const agent = createAgent({
      model: scriptedModel([{ name: "deploy", args: { env: "prod" }, id: callId() }]),
      tools: [tools.deploy],
      middleware: [gateMiddleware(gate)],
      checkpointer: new MemorySaver(),
    });
    const { config } = await approvalLoop(agent, approve);
    expect(tools.runs).toEqual(["deploy:prod"]);

    await agent.invoke(new Command({ resume: { decisions: [{ type: "approve" }] } }), config).catch(() => undefined);
    expect(tools.runs).toEqual(["deploy:prod"]);
  });
});

describe("humanInTheLoopMiddleware and gateMiddleware on one agent", () => {
  function agentWithBoth(
    gate: Awaited<ReturnType<typeof makeGate>>,
    tools: ReturnType<typeof makeTools>,
    id: string,
    options = {},
  ) {
    return createAgent({
      model: scriptedModel([{ name: "deploy", args: { env: "prod" }, id }]),
      tools: [tools.deploy],
      middleware: [humanInTheLoopMiddleware({ interruptOn: { deploy: true } }), gateMiddleware(gate, options)],
      checkpointer: new MemorySaver(),
    });
  }

  it("both want a human for one call: one interrupt, one answer, recorded by the gate; the tool runs once", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const id = callId();

    const { result, questions } = await approvalLoop(agentWithBoth(gate, tools, id), approve);

    expect(questions).toHaveLength(1);
    expect(tools.runs).toEqual(["deploy:prod"]);
    expect(toolMessages(result.messages).map((m) => m.content)).toEqual(["deployed to prod"]);
    expect(gate.decisions.filter((d) => d.code === "approved")).toMatchObject([
      { type: "allow", callId: id, approvedBy: "humanInTheLoopMiddleware" },
    ]);
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("an edit through humanInTheLoopMiddleware is checked by the gate with the edited arguments", async () => {
    const gate = await makeGate(deployRules);
    const tools = makeTools();

    const denied = await approvalLoop(agentWithBoth(gate, tools, callId(), { mapping: deployMapping }), () => ({
      type: "edit",
      editedAction: { name: "deploy", args: { env: "the-moon" } },
    }));
    expect(denied.questions).toHaveLength(1);
    expect(tools.runs).toEqual([]);
    expect(JSON.parse(String(toolMessages(denied.result.messages)[0]?.content))).toMatchObject({
      code: "target_not_allowed",
    });

    const edited = await approvalLoop(agentWithBoth(gate, tools, callId(), { mapping: deployMapping }), () => ({
      type: "edit",
      editedAction: { name: "deploy", args: { env: "prod" } },
    }));
    expect(edited.questions).toHaveLength(1);
    expect(tools.runs).toEqual(["deploy:prod"]);
  });

  it("a rejection through humanInTheLoopMiddleware: no second question, the tool does not run", async () => {
    const gate = await makeGate();
    const tools = makeTools();

    const { questions } = await approvalLoop(agentWithBoth(gate, tools, callId()), () => ({
      type: "reject",
      message: "no",
    }));

    expect(questions).toHaveLength(1);
    expect(tools.runs).toEqual([]);
  });

  it("humanInTheLoopMiddleware's approval does not override a gate DENY", async () => {
    const gate = await makeGate(
      baseRules.map((r) => (r.action === "tool_use" ? { ...r, allowedTargets: ["search"], escalateTargets: [] } : r)),
    );
    const tools = makeTools();

    const { result, questions } = await approvalLoop(agentWithBoth(gate, tools, callId()), approve);

    expect(questions).toHaveLength(1);
    expect(tools.runs).toEqual([]);
    expect(JSON.parse(String(toolMessages(result.messages)[0]?.content))).toMatchObject({
      denied: true,
      code: "target_not_allowed",
    });
  });

  it.each(["exit", "async", "sync"] as const)(
    'durability "%s": one question for one call, recorded by the gate; the call runs once',
    async (durability) => {
      const gate = await makeGate();
      const tools = makeTools();
      const id = callId();
      const agent = agentWithBoth(gate, tools, id);
      const config = { configurable: { thread_id: globalThis.crypto.randomUUID() }, durability };
      let result = await agent.invoke({ messages: [{ role: "user", content: "Ship it" }] }, config);
      const questions: unknown[] = [];
      while (result.__interrupt__?.length) {
        questions.push(...result.__interrupt__.map((i) => i.value));
        result = await agent.invoke(new Command({ resume: { decisions: [{ type: "approve" }] } }), config);
      }
      expect(questions).toHaveLength(1);
      expect(questions[0]).not.toHaveProperty("type"); // humanInTheLoopMiddleware's question, not the gate's
      expect(tools.runs).toEqual(["deploy:prod"]);
      expect(gate.decisions.filter((d) => d.code === "approved")).toMatchObject([
        { type: "allow", callId: id, approvedBy: "humanInTheLoopMiddleware" },
      ]);
    },
  );

  it('durability "exit": a rejection, or an edit into other arguments the gate escalates, is never taken for an approval', async () => {
    const gate = await makeGate(deployRules);
    const tools = makeTools();
    const agent = agentWithBoth(gate, tools, callId(), { mapping: deployMapping });
    const config = { configurable: { thread_id: globalThis.crypto.randomUUID() }, durability: "exit" as const };
    const answers: HITLResponse[] = [
      { decisions: [{ type: "edit", editedAction: { name: "deploy", args: { env: "prod", force: true } } }] },
      { decisions: [{ type: "reject", message: "not today" }] },
    ];
    let result = await agent.invoke({ messages: [{ role: "user", content: "Ship it" }] }, config);
    const questions: unknown[] = [];
    while (result.__interrupt__?.length) {
      questions.push(...result.__interrupt__.map((i) => i.value));
      result = await agent.invoke(new Command({ resume: answers.shift() }), config);
    }
    // HITL asked, the human edited; the edit's answer is not stored yet, so the gate asked about the edited call.
    expect(questions).toHaveLength(2);
    expect(questions[1]).toMatchObject({ type: "agentgate.approval", args: { env: "prod", force: true } });
    expect(tools.runs).toEqual([]);
    expect(gate.decisions.some((d) => d.type === "allow" && d.action === "deploy")).toBe(false);
  });
});
