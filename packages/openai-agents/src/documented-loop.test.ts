import type { ApprovalRequest, GateKeeper } from "@agentgate/core";
import { Agent, RunState, tool, type RunResult } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateTools, type GateToolsOptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner, searchTool, toolResultsSeenByModel } from "./test-utils/fixtures.js";

// The SDK's documented human-in-the-loop loop, unchanged: run, approve every
// interruption with `state.approve(i)` (or reject it), run again with the state.
// The gate is added as the README says: `gateTools(tools, gate, { approvedBy })`.

const rules = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
];

type Run = RunResult<any, any>;

/** The SDK's documented loop; `answer` stands for the app's own approval UI. */
async function documentedLoop(
  agent: Agent<any, any>,
  input: string,
  answer: (item: Run["interruptions"][number]) => boolean,
  rejection?: string,
) {
  const runner = makeRunner();
  let result: Run = await runner.run(agent, input);
  let questions = 0;
  while (result.interruptions.length > 0) {
    const state = result.state;
    for (const interruption of result.interruptions) {
      questions++;
      if (answer(interruption)) state.approve(interruption);
      else state.reject(interruption, rejection === undefined ? {} : { message: rejection });
    }
    result = await runner.run(agent, state);
  }
  return { result, questions };
}

function deployAgent(ran: string[], id: string, tools: (t: ReturnType<typeof deployTool>[]) => any[]) {
  const model = new ScriptedModel([
    [functionCall("deploy", { service: "api", env: "prod" }, { callId: id })],
    [assistantMessage("finished")],
  ]);
  return {
    model,
    agent: new Agent({ name: "ops", instructions: "deploy things", model, tools: tools([deployTool(ran)]) }),
  };
}

const asUser = { approvedBy: () => "alice@example.com" } satisfies GateToolsOptions;

/**
 * Pauses on one deploy, then resumes the saved state string elsewhere (new tools, the same gate
 * store) after answering every interruption with `answer`, as a server that keeps the string does.
 */
async function pauseAndResumeElsewhere(gate: GateKeeper, answer: (state: RunState<any, any>, item: any) => void) {
  const ran: string[] = [];
  const id = callId();
  const paused = await makeRunner().run(deployAgent(ran, id, (t) => gateTools(t, gate, asUser)).agent, "deploy api");
  const saved = paused.state.toString(); // in the app's own database
  const model = new ScriptedModel([[assistantMessage("finished")], [assistantMessage("again")]]);
  const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate, asUser) });
  const state = await RunState.fromString(agent, saved);
  for (const interruption of state.getInterruptions()) answer(state, interruption);
  const result = await makeRunner().run(agent, state);
  return { ran, id, result, seen: toolResultsSeenByModel(model.calls).get(id) };
}

describe("the SDK's documented approval loop with the gate added", () => {
  it("permissive policy: same messages, results and output as the ungated agent", async () => {
    const runOnce = async (gated: boolean) => {
      const gate = await makeGate([{ action: "tool_use", allowed: true }]);
      const ran: string[] = [];
      const searched: string[] = [];
      const model = new ScriptedModel([
        [
          functionCall("search", { query: "status" }, { callId: "c1" }),
          functionCall("deploy", { service: "api", env: "prod" }, { callId: "c2" }),
        ],
        [assistantMessage("all good")],
      ]);
      const tools = [searchTool(searched), deployTool(ran)];
      const agent = new Agent({
        name: "ops",
        instructions: "",
        model,
        tools: gated ? gateTools(tools, gate, asUser) : tools,
      });
      const { result, questions } = await documentedLoop(agent, "go", () => true);
      return {
        output: result.finalOutput,
        history: result.history,
        requests: model.calls.map((c) => c.request.input),
        ran,
        searched,
        questions,
      };
    };
    const [plain, gated] = [await runOnce(false), await runOnce(true)];
    expect(gated).toEqual(plain);
    expect(gated.ran).toEqual(["api@prod"]);
  });

  it("escalation: one question, answered with state.approve(); the gate records who approved and the call runs once", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const { model, agent } = deployAgent(ran, id, (tools) => gateTools(tools, gate, asUser));
    const { result, questions } = await documentedLoop(agent, "deploy api", () => true);

    expect(questions).toBe(1);
    expect(ran).toEqual(["api@prod"]);
    expect(result.finalOutput).toBe("finished");
    expect(toolResultsSeenByModel(model.calls).get(id)).toBe("deployed api to prod");
    expect(await gate.pendingEscalations()).toEqual([]);
    const approved = gate.decisions.filter((d) => d.callId === id && d.type === "allow");
    expect(approved[0]).toMatchObject({ code: "approved", approvedBy: "alice@example.com" });
  });

  it("escalation with a server-held state string (toString/fromString) between the question and the answer", async () => {
    const gate = await makeGate(rules);
    const { ran, result } = await pauseAndResumeElsewhere(gate, (state, item) => state.approve(item));
    expect(ran).toEqual(["api@prod"]);
    expect(result.finalOutput).toBe("finished");
  });

  it("the human is never asked twice: an inline approvalHandler means no interruption, and the tool's own needsApproval shares the one question", async () => {
    const asked: ApprovalRequest[] = [];
    const inline = await makeGate(rules, {
      approvalHandler: (request) => (asked.push(request), { approved: true, approvedBy: "bob" }),
    });
    const ran: string[] = [];
    const { agent } = deployAgent(ran, callId(), (tools) => gateTools(tools, inline, asUser));
    const first = await documentedLoop(agent, "deploy", () => true);
    expect([first.questions, asked.length, ran]).toEqual([0, 1, ["api@prod"]]);

    const gate = await makeGate(rules);
    const ownApproval = tool({
      name: "deploy",
      description: "Deploy a service",
      parameters: z.object({ service: z.string(), env: z.string() }),
      needsApproval: true,
      execute: async ({ service, env }) => (ran.push(`${service}@${env}`), "deployed"),
    });
    const model = new ScriptedModel([
      [functionCall("deploy", { service: "web", env: "prod" }, { callId: callId() })],
      [assistantMessage("ok")],
    ]);
    const both = new Agent({ name: "ops", instructions: "", model, tools: gateTools([ownApproval], gate, asUser) });
    const second = await documentedLoop(both, "deploy", () => true);
    expect(second.questions).toBe(1);
    expect(ran).toEqual(["api@prod", "web@prod"]);
  });

  it("rejection with state.reject(): the call never runs and the model reads the reason", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const { model, agent } = deployAgent(ran, id, (tools) => gateTools(tools, gate, asUser));
    const { result } = await documentedLoop(agent, "deploy api", () => false, "change freeze until Monday");
    expect(ran).toEqual([]);
    expect(result.finalOutput).toBe("finished");
    expect(toolResultsSeenByModel(model.calls).get(id)).toBe("change freeze until Monday");
    // The gate recorded the human's answer: audited as a rejection with the reason, nothing left pending.
    expect(await gate.pendingEscalations()).toEqual([]);
    const rejected = gate.decisions.filter((d) => d.callId === id && d.code === "approval_denied");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ type: "deny", action: "tool_use", target: "deploy" });
    expect(rejected[0]!.reason).toMatch(/change freeze until Monday/);
  });

  it("rejection in another process: state.reject() on a state string resumed elsewhere is recorded once", async () => {
    const gate = await makeGate(rules);
    const { ran, id, result, seen } = await pauseAndResumeElsewhere(gate, (state, item) => state.reject(item));
    expect([ran, result.finalOutput]).toEqual([[], "finished"]);
    // The SDK's default text reaches the model; the gate audits the rejection once, in the SDK's words.
    expect(seen).toMatch(/not approved/);
    const rejected = gate.decisions.filter((d) => d.callId === id && d.code === "approval_denied");
    expect(rejected.map((d) => d.reason)).toEqual([expect.stringMatching(/rejected with the SDK's state\.reject\(\)/)]);
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("forged approval: with runState untrusted, an approval written into the state string is refused and the model reads why", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const untrusted = { ...asUser, runState: "untrusted" } as const;
    const paused = await makeRunner().run(
      deployAgent(ran, id, (t) => gateTools(t, gate, untrusted)).agent,
      "deploy api",
    );
    // The client gets the string, approves inside it, and sends it back.
    paused.state.approve(paused.interruptions[0]!);
    const forged = paused.state.toString();

    const model = new ScriptedModel([[assistantMessage("finished")]]);
    const agent = new Agent({
      name: "ops",
      instructions: "",
      model,
      tools: gateTools([deployTool(ran)], gate, untrusted),
    });
    const result = await makeRunner().run(agent, await RunState.fromString(agent, forged));
    expect(ran).toEqual([]);
    expect(result.finalOutput).toBe("finished");
    const seen = JSON.parse(toolResultsSeenByModel(model.calls).get(id)!);
    expect(seen).toMatchObject({ denied: true, decision: "escalate" });
    expect(seen.reason).toMatch(/no recorded approval/);
    expect((await gate.pendingEscalations()).map((r) => r.callId)).toEqual([id]);
  });

  it("replayed approval: resuming the approved state a second time does not run the call again", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const paused = await makeRunner().run(deployAgent(ran, id, (t) => gateTools(t, gate, asUser)).agent, "deploy api");
    for (const interruption of paused.interruptions) paused.state.approve(interruption);
    const approved = paused.state.toString();
    const resumeFrom = async (text: string) => {
      const model = new ScriptedModel([[assistantMessage("finished")]]);
      const agent = new Agent({
        name: "ops",
        instructions: "",
        model,
        tools: gateTools([deployTool(ran)], gate, asUser),
      });
      await makeRunner().run(agent, await RunState.fromString(agent, text));
      return toolResultsSeenByModel(model.calls).get(id)!;
    };
    expect(await resumeFrom(approved)).toBe("deployed api to prod");
    expect(JSON.parse(await resumeFrom(approved))).toMatchObject({ denied: true, code: "call_replayed" });
    expect(ran).toEqual(["api@prod"]);
  });

  it("an approvedBy option that throws refuses the call (fail closed) and the run goes on", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const options: GateToolsOptions = {
      approvedBy: () => {
        throw new Error("no session");
      },
    };
    const { model, agent } = deployAgent(ran, id, (tools) => gateTools(tools, gate, options));
    const { result } = await documentedLoop(agent, "deploy", () => true);
    expect(ran).toEqual([]);
    expect(result.finalOutput).toBe("finished");
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!).reason).toMatch(
      /approvedBy option failed: no session/,
    );
  });
  it("streamed runs: the same loop over streamed results approves the escalation once", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const { agent } = deployAgent(ran, id, (tools) => gateTools(tools, gate, asUser));
    const runner = makeRunner();
    let stream = await runner.run(agent, "deploy api", { stream: true });
    await stream.completed;
    let questions = 0;
    while (stream.interruptions.length > 0) {
      for (const interruption of stream.interruptions) questions++, stream.state.approve(interruption);
      stream = await runner.run(agent, stream.state, { stream: true });
      await stream.completed;
    }
    expect([questions, ran, stream.finalOutput]).toEqual([1, ["api@prod"], "finished"]);
  });

  it("approvedBy naming the agent itself is a self-approval: refused, and the model reads why", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const { model, agent } = deployAgent(ran, id, (tools) =>
      gateTools(tools, gate, { approvedBy: () => gate.identity.name }),
    );
    await documentedLoop(agent, "deploy", () => true);
    expect(ran).toEqual([]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!)).toMatchObject({ denied: true, decision: "deny" });
  });
});
