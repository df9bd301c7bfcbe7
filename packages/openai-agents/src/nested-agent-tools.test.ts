import type { GateKeeper } from "@agentgate/core";
import { Agent, RunState, tool, type RunResult } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateTools, resolveGateInterruptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner, toolResultsSeenByModel } from "./test-utils/fixtures.js";

// An escalation on an `agent.asTool()` call, approved, then an approval inside
// that sub-agent: the second resume continues the same agent-tool run.

const rules = [
  {
    action: "tool_use",
    allowed: true,
    allowedTargets: ["deploy", "ask_deployer"],
    escalateTargets: ["deploy", "ask_deployer"],
  },
];

function team(gate: GateKeeper, ran: string[], ids: { outer: string; inner: string }, innerTools?: any[]) {
  const subModel = new ScriptedModel([
    [functionCall("deploy", { service: "api", env: "prod" }, { callId: ids.inner })],
    [assistantMessage("deployed api")],
  ]);
  const deployer = new Agent({
    name: "deployer",
    instructions: "",
    model: subModel,
    tools: innerTools ?? gateTools([deployTool(ran)], gate),
  });
  const outerModel = new ScriptedModel([
    [functionCall("ask_deployer", { input: "ship api" }, { callId: ids.outer })],
    [assistantMessage("all done")],
  ]);
  const lead = new Agent({
    name: "lead",
    instructions: "",
    model: outerModel,
    tools: gateTools([deployer.asTool({ toolName: "ask_deployer", toolDescription: "Deploys" })], gate),
  });
  return { lead, subModel, outerModel };
}

/** The SDK's documented loop, approving everything; returns the result and which agents asked. */
async function approveAll(agent: Agent<any, any>, first: RunResult<any, any>) {
  const runner = makeRunner();
  let result = first;
  const asked: string[] = [];
  while (result.interruptions.length > 0) {
    for (const interruption of result.interruptions) {
      asked.push(`${interruption.agent.name}:${interruption.name}`);
      result.state.approve(interruption);
    }
    result = await runner.run(agent, result.state);
  }
  return { result, asked };
}

describe("nested agent-tool approvals", () => {
  it("outer escalation approved, then an approval inside the sub-agent: the sub-agent's approved work completes", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const ids = { outer: callId("outer"), inner: callId("inner") };
    const { lead, subModel, outerModel } = team(gate, ran, ids);
    const { result, asked } = await approveAll(lead, await makeRunner().run(lead, "ship it"));

    expect(asked).toEqual(["lead:ask_deployer", "deployer:deploy"]);
    expect(ran).toEqual(["api@prod"]);
    expect(subModel.calls).toHaveLength(2);
    expect(toolResultsSeenByModel(outerModel.calls).get(ids.outer)).toBe("deployed api");
    expect(result.finalOutput).toBe("all done");
    expect(gate.decisions.some((d) => d.code === "call_replayed")).toBe(false);
  });

  it("the same with resolveGateInterruptions and a string round-trip at each pause", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const ids = { outer: callId("outer"), inner: callId("inner") };
    const { lead, outerModel } = team(gate, ran, ids);
    const runner = makeRunner();
    let result = await runner.run(lead, "ship it");
    let questions = 0;
    while (result.interruptions.length > 0) {
      const state = await RunState.fromString(lead, result.state.toString());
      questions += (await resolveGateInterruptions(state, gate, () => true)).length;
      result = await runner.run(lead, await RunState.fromString(lead, state.toString()));
    }
    expect(questions).toBe(2);
    expect(ran).toEqual(["api@prod"]);
    expect(toolResultsSeenByModel(outerModel.calls).get(ids.outer)).toBe("deployed api");
    expect(result.finalOutput).toBe("all done");
  });

  it("a gated agent tool around a sub-agent whose tool uses the SDK's own needsApproval completes", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const ids = { outer: callId("outer"), inner: callId("inner") };
    const ownApproval = tool({
      name: "deploy",
      description: "Deploy",
      parameters: z.object({ service: z.string(), env: z.string() }),
      needsApproval: true,
      execute: async ({ service, env }) => (ran.push(`${service}@${env}`), "ok"),
    });
    const { lead } = team(gate, ran, ids, [ownApproval]);
    const { result, asked } = await approveAll(lead, await makeRunner().run(lead, "ship it"));
    expect(asked).toEqual(["lead:ask_deployer", "deployer:deploy"]);
    expect(ran).toEqual(["api@prod"]);
    expect(result.finalOutput).toBe("all done");
  });

  it("a true replay is still refused: the approved state resumed again does not start the sub-agent a second time", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const ids = { outer: callId("outer"), inner: callId("inner") };
    const { lead, subModel } = team(gate, ran, ids);
    const runner = makeRunner();
    const paused = await runner.run(lead, "ship it");
    for (const interruption of paused.interruptions) paused.state.approve(interruption);
    const approvedOuter = paused.state.toString();
    await approveAll(lead, await runner.run(lead, paused.state));
    expect(ran).toEqual(["api@prod"]);
    expect(subModel.calls).toHaveLength(2);

    // The saved approval of the outer call, resumed again on a fresh agent team.
    const again = team(gate, ran, ids);
    const replayed = await runner.run(again.lead, await RunState.fromString(again.lead, approvedOuter));
    expect(again.subModel.calls).toHaveLength(0);
    expect(ran).toEqual(["api@prod"]);
    expect(replayed.interruptions).toEqual([]);
    expect(JSON.parse(toolResultsSeenByModel(again.outerModel.calls).get(ids.outer)!)).toMatchObject({
      denied: true,
      code: "call_replayed",
    });
  });

  it("an agent tool the gate denies never starts its sub-agent", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, allowedTargets: ["deploy"] }]);
    const ran: string[] = [];
    const ids = { outer: callId("outer"), inner: callId("inner") };
    const { lead, subModel, outerModel } = team(gate, ran, ids);
    const result = await makeRunner().run(lead, "ship it");
    expect(subModel.calls).toHaveLength(0);
    expect(result.finalOutput).toBe("all done");
    expect(JSON.parse(toolResultsSeenByModel(outerModel.calls).get(ids.outer)!)).toMatchObject({
      denied: true,
      decision: "deny",
    });
  });
});
