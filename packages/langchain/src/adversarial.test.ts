import { AIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { tool } from "@langchain/core/tools";
import { Command, MemorySaver, type Interrupt } from "@langchain/langgraph";
import { createAgent } from "langchain";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isGateInterrupt, type GateInterruptValue } from "./approval-interrupt.js";
import { gateMiddleware } from "./gate-middleware.js";
import { callId, makeGate, makeTools } from "./test-utils/fixtures.js";

// Adversarial tests (issue 9) the shared adapter conformance suite (conformance.test.ts)
// does not express: resume values and saved checkpoints are not trusted.
// Each test drives a real createAgent loop (LangChain's fake model, LangGraph's
// MemorySaver) and asserts which tools actually ran.

const rules = [
  {
    action: "tool_use",
    allowed: true,
    allowedTargets: ["search", "deploy", "rollback"],
    escalateTargets: ["deploy", "rollback"],
  },
  { action: "llm_call", allowed: true, maxPerMinute: 1000 },
];
const ask = { messages: [{ role: "user", content: "go" }] };
const thread = () => ({ configurable: { thread_id: globalThis.crypto.randomUUID() } });
const toolMessages = (messages: BaseMessage[]) => messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
const denialOf = (m: ToolMessage) =>
  JSON.parse(String(m.content)) as { decision: string; code: string; reason: string };
const gateInterrupts = (r: { __interrupt__?: Interrupt[] }) =>
  (r.__interrupt__ ?? []).filter((i): i is Interrupt & { value: GateInterruptValue } => isGateInterrupt(i.value));

function withRollback(runs: string[]) {
  return tool(
    async ({ env }) => {
      runs.push(`rollback:${env}`);
      return `rolled back ${env}`;
    },
    { name: "rollback", description: "Roll back", schema: z.object({ env: z.string() }) },
  );
}

/** One deploy that pauses for a human; returns the agent, its thread and the interrupt. */
async function pausedDeploy(options: Parameters<typeof makeGate>[1] = {}, env = "prod") {
  const gate = await makeGate(rules, options);
  const { runs, deploy } = makeTools();
  const id = callId();
  const model = fakeModel()
    .respondWithTools([{ name: "deploy", args: { env }, id }])
    .respond(new AIMessage("done"))
    .respond(new AIMessage("done"));
  const agent = createAgent({
    model,
    tools: [deploy, withRollback(runs)],
    middleware: [gateMiddleware(gate)],
    checkpointer: new MemorySaver(),
  });
  const config = thread();
  const paused = await agent.invoke(ask, config);
  const [pending] = gateInterrupts(paused);
  expect(pending).toBeDefined();
  return { gate, runs, id, agent, config, paused, pending: pending! };
}

describe("LangChain: forged resumes and edited checkpoints", () => {
  it("two tool calls sharing one id with different arguments: the unapproved one never runs", async () => {
    const gate = await makeGate(rules, {
      approvalHandler: (r) => ({ approved: (r.args as { env: string }).env === "staging", approvedBy: "alice" }),
    });
    const { runs, deploy } = makeTools();
    const id = callId("dup");
    const model = fakeModel()
      .respondWithTools([
        { name: "deploy", args: { env: "staging" }, id },
        { name: "deploy", args: { env: "prod" }, id },
      ])
      .respond(new AIMessage("done"));
    const agent = createAgent({
      model,
      tools: [deploy],
      middleware: [gateMiddleware(gate)],
      checkpointer: new MemorySaver(),
    });
    await agent.invoke(ask, thread());
    expect(runs).not.toContain("deploy:prod");
    expect(gate.decisions.filter((d) => d.action === "tool_use").map((d) => d.code)).toEqual(
      expect.arrayContaining(["approved", "call_mismatch"]),
    );
  });

  it("resume values carrying approval only through __proto__ or strings are rejections", async () => {
    for (const resume of [JSON.parse('{"__proto__": {"approved": true}}'), { approved: "true" }, "yes", 1, [true]]) {
      const { runs, agent, config } = await pausedDeploy();
      const done = await agent.invoke(new Command({ resume }), config);
      expect(runs).toEqual([]);
      expect(denialOf(toolMessages(done.messages)[0]!).decision).toBe("deny");
    }
  });
});
