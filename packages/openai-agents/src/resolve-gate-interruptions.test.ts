import { AgentIdentity, GateKeeper, MemoryStore, PermissionPolicy, type ApprovalRequest } from "@agentgate/core";
import { Agent, RunState } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { gateTools, resolveGateInterruptions, type GateToolsOptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner, searchTool, toolResultsSeenByModel } from "./test-utils/fixtures.js";

const deployRules = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
];

/** An agent whose model asks for one deploy, then finishes with whatever it read. */
function deployScenario(gate: GateKeeper, id: string, ran: string[], options: GateToolsOptions = {}, env = "prod") {
  const model = new ScriptedModel([
    [functionCall("deploy", { service: "api", env }, { callId: id })],
    [assistantMessage("finished")],
  ]);
  const agent = new Agent({
    name: "ops",
    instructions: "deploy things",
    model,
    tools: gateTools([deployTool(ran)], gate, options),
  });
  return { model, agent };
}

describe("escalation through the SDK's interruptions", () => {
  it("pauses on ESCALATE; an approval recorded in the gate lets the call run", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const id = callId();
    const { model, agent } = deployScenario(gate, id, ran);
    const runner = makeRunner();

    let result = await runner.run(agent, "deploy api");
    expect(result.interruptions).toHaveLength(1);
    expect(ran).toEqual([]);

    const requests: ApprovalRequest[] = [];
    const outcomes = await resolveGateInterruptions(result, gate, (request) => {
      requests.push(request);
      return { approved: true, approvedBy: "alice" };
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      callId: id,
      action: "tool_use",
      target: "deploy",
      args: { service: "api", env: "prod" },
    });
    expect(requests[0]!.escalationId).toEqual(expect.any(String));
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      approved: true,
      toolName: "deploy",
      callId: id,
      decision: { type: "allow", approvedBy: "alice" },
    });

    result = await runner.run(agent, result.state);
    expect(result.interruptions).toEqual([]);
    expect(ran).toEqual(["api@prod"]);
    expect(result.finalOutput).toBe("finished");
    expect(toolResultsSeenByModel(model.calls).get(id)).toBe("deployed api to prod");
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("works the same for streamed runs", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const id = callId();
    const { agent } = deployScenario(gate, id, ran);
    const runner = makeRunner();
    const drain = async (stream: AsyncIterable<unknown> & { completed: Promise<void> }) => {
      for await (const _event of stream) {
        // consume
      }
      await stream.completed;
    };
    const paused = await runner.run(agent, "deploy api", { stream: true });
    await drain(paused);
    expect(paused.interruptions).toHaveLength(1);
    expect(await resolveGateInterruptions(paused, gate, () => true)).toMatchObject([{ approved: true }]);
    const resumed = await runner.run(agent, paused.state, { stream: true });
    await drain(resumed);
    expect(ran).toEqual(["api@prod"]);
    expect(resumed.finalOutput).toBe("finished");
  });

  it("a rejection never runs the tool and the model reads the reason", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const id = callId();
    const { model, agent } = deployScenario(gate, id, ran);
    const runner = makeRunner();

    let result = await runner.run(agent, "deploy api");
    const outcomes = await resolveGateInterruptions(result, gate, () => ({
      approved: false,
      approvedBy: "bob",
      reason: "change freeze",
    }));
    expect(outcomes[0]).toMatchObject({ approved: false, decision: { type: "deny" } });
    result = await runner.run(agent, result.state);

    expect(ran).toEqual([]);
    expect(result.finalOutput).toBe("finished");
    const seen = JSON.parse(toolResultsSeenByModel(model.calls).get(id)!);
    expect(seen).toMatchObject({ denied: true, decision: "deny" });
    expect(seen.reason).toMatch(/change freeze/);
  });

  it("survives RunState.toString()/fromString() between the pause and the answer (another process, shared store)", async () => {
    const store = new MemoryStore();
    const identity = await AgentIdentity.create("ops-bot");
    const policy = new PermissionPolicy({ name: "deploys", rules: deployRules });
    const ran: string[] = [];

    // Process 1: run until the pause, persist the state, forget everything else.
    const first = new GateKeeper({ identity, policy, store });
    const id = callId();
    const paused = await makeRunner().run(deployScenario(first, id, []).agent, "deploy api");
    expect(paused.interruptions).toHaveLength(1);
    const saved = paused.state.toString();

    // Process 2: a fresh gate over the same store, a freshly built agent.
    const second = new GateKeeper({ identity, policy, store });
    const model = new ScriptedModel([[assistantMessage("finished")]]);
    const agent = new Agent({
      name: "ops",
      instructions: "deploy things",
      model,
      tools: gateTools([deployTool(ran)], second),
    });
    const state = await RunState.fromString(agent, saved);
    const outcomes = await resolveGateInterruptions(state, second, () => true);
    expect(outcomes).toMatchObject([{ approved: true, callId: id }]);

    // The answer itself can travel as a string too.
    const resumed = await RunState.fromString(agent, state.toString());
    const result = await makeRunner().run(agent, resumed);
    expect(ran).toEqual(["api@prod"]);
    expect(result.finalOutput).toBe("finished");
    expect(toolResultsSeenByModel(model.calls).get(id)).toBe("deployed api to prod");
  });

  it("a rejection also survives the string round-trip", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const id = callId();
    const paused = await makeRunner().run(deployScenario(gate, id, ran).agent, "deploy api");
    const model = new ScriptedModel([[assistantMessage("finished")]]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate) });
    const state = await RunState.fromString(agent, paused.state.toString());
    await resolveGateInterruptions(state, gate, () => false);
    const result = await makeRunner().run(agent, await RunState.fromString(agent, state.toString()));
    expect(ran).toEqual([]);
    expect(result.finalOutput).toBe("finished");
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!).denied).toBe(true);
  });

  it("with runState untrusted, a state approved in the SDK but never in the gate cannot run the call", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("deploy", { service: "api", env: "prod" }, { callId: id })],
      [assistantMessage("finished")],
    ]);
    const tools = gateTools([deployTool(ran)], gate, { runState: "untrusted" });
    const agent = new Agent({ name: "ops", instructions: "deploy things", model, tools });
    const runner = makeRunner();

    let result = await runner.run(agent, "deploy api");
    // Approve straight in the SDK state, bypassing the gate.
    for (const item of result.interruptions) result.state.approve(item);
    result = await runner.run(agent, result.state);

    expect(ran).toEqual([]);
    const seen = JSON.parse(toolResultsSeenByModel(model.calls).get(id)!);
    expect(seen).toMatchObject({ denied: true, decision: "escalate" });
    expect(seen.reason).toMatch(/no recorded approval/);
    // The escalation is still open in the gate: nobody approved it.
    expect((await gate.pendingEscalations()).map((r) => r.callId)).toEqual([id]);
  });

  it("an edited serialized state cannot approve a call the gate rejected", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const id = callId();
    const paused = await makeRunner().run(deployScenario(gate, id, ran).agent, "deploy api");
    const [item] = paused.interruptions;
    // The human says no, and the gate records it ...
    const [pending] = await gate.pendingEscalations();
    await gate.resolveEscalation(pending!.escalationId, { approved: false, reason: "no" });
    // ... but someone approves the saved state and edits the string it travels as.
    paused.state.approve(item!);
    const text = paused.state.toString();
    const model = new ScriptedModel([[assistantMessage("finished")]]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate) });
    const result = await makeRunner().run(agent, await RunState.fromString(agent, text));

    expect(ran).toEqual([]);
    expect(result.finalOutput).toBe("finished");
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!)).toMatchObject({ denied: true, decision: "deny" });
  });

  it("a decide callback that throws, or answers nonsense, rejects", async () => {
    for (const decide of [
      () => {
        throw new Error("pager down");
      },
      () => "yes please" as never,
    ]) {
      const gate = await makeGate(deployRules);
      const ran: string[] = [];
      const id = callId();
      const { agent } = deployScenario(gate, id, ran);
      const runner = makeRunner();
      let result = await runner.run(agent, "deploy");
      const [outcome] = await resolveGateInterruptions(result, gate, decide);
      expect(outcome).toMatchObject({ approved: false });
      result = await runner.run(agent, result.state);
      expect(ran).toEqual([]);
      expect(result.finalOutput).toBe("finished");
    }
  });

  it("applies an escalation already settled elsewhere without asking again", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const id = callId();
    const { agent } = deployScenario(gate, id, ran);
    const runner = makeRunner();
    let result = await runner.run(agent, "deploy");
    const [pending] = await gate.pendingEscalations();
    await gate.resolveEscalation(pending!.escalationId, { approved: true, approvedBy: "on-call" });

    let asked = 0;
    const outcomes = await resolveGateInterruptions(result, gate, () => (asked++, false));
    expect(asked).toBe(0);
    expect(outcomes).toMatchObject([{ approved: true, decision: { approvedBy: "on-call" } }]);
    result = await runner.run(agent, result.state);
    expect(ran).toEqual(["api@prod"]);
  });

  it("handles several escalations in one turn, each on its own answer, next to an allowed call", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const searched: string[] = [];
    const [a, b, s] = [callId(), callId(), callId()];
    const model = new ScriptedModel([
      [
        functionCall("deploy", { service: "api", env: "prod" }, { callId: a }),
        functionCall("deploy", { service: "web", env: "prod" }, { callId: b }),
        functionCall("search", { query: "status" }, { callId: s }),
      ],
      [assistantMessage("finished")],
    ]);
    const agent = new Agent({
      name: "ops",
      instructions: "",
      model,
      tools: gateTools([deployTool(ran), searchTool(searched)], gate),
    });
    const runner = makeRunner();
    let result = await runner.run(agent, "deploy both");
    expect(result.interruptions).toHaveLength(2);
    await resolveGateInterruptions(result, gate, (request) => (request.args as { service: string }).service === "web");
    result = await runner.run(agent, result.state);
    expect(ran).toEqual(["web@prod"]);
    expect(searched).toEqual(["status"]);
    expect(result.finalOutput).toBe("finished");
  });

  it("leaves interruptions raised by another gate alone", async () => {
    const gate = await makeGate(deployRules);
    const other = await makeGate(deployRules);
    const ran: string[] = [];
    const { agent } = deployScenario(gate, callId(), ran);
    const result = await makeRunner().run(agent, "deploy");
    expect(await resolveGateInterruptions(result, other, () => true)).toEqual([]);
    expect(result.state.getInterruptions()).toHaveLength(1);
    await expect(resolveGateInterruptions({} as never, gate, () => true)).rejects.toThrow(TypeError);
  });
});

// A RunState string that went to a browser and came back: the client may edit anything in it.
describe('runState: "untrusted", in the process that paused the run', () => {
  it("arguments edited in the state string after the pause never run, even once a human approved the call", async () => {
    const gate = await makeGate(deployRules);
    const ran: string[] = [];
    const id = callId();
    // One agent for the pause and the resume: the gated tool remembers what it saw for this call.
    const { model, agent } = deployScenario(gate, id, ran, { runState: "untrusted" }, "staging");
    const sent = (await makeRunner().run(agent, "deploy api to staging")).state.toString();
    const edited = sent.replaceAll('\\"env\\":\\"staging\\"', '\\"env\\":\\"prod\\"');
    expect(edited).not.toBe(sent);

    const state = await RunState.fromString(agent, edited);
    const asked: unknown[] = [];
    await resolveGateInterruptions(state, gate, (request) => (asked.push(request.args), true));
    const result = await makeRunner().run(agent, state);
    // The edited call is not the one the gate escalated: refused (call_mismatch), nobody asked about it.
    expect(asked).toEqual([]);
    expect(gate.decisions.some((d) => d.callId === id && d.code === "call_mismatch")).toBe(true);
    expect(ran).not.toContain("api@prod");
    expect(result.finalOutput).toBe("finished");
    expect(toolResultsSeenByModel(model.calls).get(id)).not.toBe("deployed api to prod");
  });
});
