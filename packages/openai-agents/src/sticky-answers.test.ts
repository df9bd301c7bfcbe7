import type { GateKeeper } from "@agentgate/core";
import { Agent, RunState, type RunResult } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { gateTools, type GateToolsOptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner, toolResultsSeenByModel } from "./test-utils/fixtures.js";

// The SDK's documented loop with its tool-wide answers: `state.approve(i, { alwaysApprove: true })` and
// `state.reject(i, { alwaysReject: true })`. The gate records the human's answer for the call it
// escalated, once; a tool-wide answer never answers the gate for a call no human was shown.

const rules = [{ action: "tool_use", allowed: true, allowedTargets: ["deploy"], escalateTargets: ["deploy"] }];
const asUser = { approvedBy: () => "alice@example.com" } satisfies GateToolsOptions;

type Run = RunResult<any, any>;
type Answer = (state: Run["state"], item: Run["interruptions"][number]) => void;

/** The model deploys api (`first`), then after the resume web (`later`), then finishes. */
function twoDeploys(gate: GateKeeper, ran: string[]) {
  const [first, later] = [callId(), callId()];
  const model = new ScriptedModel([
    [functionCall("deploy", { service: "api", env: "prod" }, { callId: first })],
    [functionCall("deploy", { service: "web", env: "prod" }, { callId: later })],
    [assistantMessage("finished")],
  ]);
  const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate, asUser) });
  return { first, later, model, agent };
}

/** The SDK's documented loop, each interruption answered with `answer`. */
async function documentedLoop(agent: Agent<any, any>, answer: Answer) {
  const runner = makeRunner();
  let result: Run = await runner.run(agent, "deploy");
  let questions = 0;
  while (result.interruptions.length > 0) {
    for (const interruption of result.interruptions) questions++, answer(result.state, interruption);
    result = await runner.run(agent, result.state);
  }
  return { result, questions };
}

const byCall = (gate: GateKeeper, id: string) => gate.decisions.filter((d) => d.callId === id);

describe("tool-wide answers (alwaysApprove / alwaysReject) in the documented loop", () => {
  it.each([
    ["with a message", "no deploys this week", "no deploys this week"],
    ["without a message", undefined, "rejected with the SDK's state.reject()"],
  ])(
    "alwaysReject %s: the escalated call's rejection is recorded once; later calls never reach the gate",
    async (_, message, audited) => {
      const gate = await makeGate(rules);
      const ran: string[] = [];
      const { first, later, model, agent } = twoDeploys(gate, ran);
      const { result, questions } = await documentedLoop(agent, (state, item) =>
        state.reject(item, { alwaysReject: true, ...(message === undefined ? {} : { message }) }),
      );
      expect([questions, ran, result.finalOutput]).toEqual([1, [], "finished"]);
      const denied = byCall(gate, first).filter((d) => d.code === "approval_denied");
      expect(denied).toHaveLength(1);
      expect(denied[0]!.reason).toContain(audited);
      expect(await gate.pendingEscalations()).toEqual([]);
      // The SDK rejects the later call itself (the human said "always"): nothing of it reaches the gate.
      expect(byCall(gate, later)).toEqual([]);
      const seen = toolResultsSeenByModel(model.calls);
      if (message !== undefined) expect([seen.get(first), seen.get(later)]).toEqual([message, message]);
    },
  );

  it("alwaysApprove: the escalated call runs once, recorded with who approved; a later escalation is not approved by it", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const { first, later, model, agent } = twoDeploys(gate, ran);
    const { result, questions } = await documentedLoop(agent, (state, item) =>
      state.approve(item, { alwaysApprove: true }),
    );
    expect([questions, ran, result.finalOutput]).toEqual([1, ["api@prod"], "finished"]);
    expect(byCall(gate, first).find((d) => d.type === "allow")).toMatchObject({
      code: "approved",
      approvedBy: "alice@example.com",
    });
    // The SDK stops asking about deploy; the gate does not: no human saw the later call (other arguments).
    const seen = JSON.parse(toolResultsSeenByModel(model.calls).get(later)!);
    expect(seen).toMatchObject({ denied: true, decision: "escalate" });
    expect(byCall(gate, later).some((d) => d.type === "allow")).toBe(false);
    // Its escalation waits in the gate for an answer there (`resolveEscalation`, an approval inbox).
    expect((await gate.pendingEscalations()).map((r) => [r.callId, r.args])).toEqual([
      [later, { service: "web", env: "prod" }],
    ]);
  });

  it("a state string resumed elsewhere: alwaysReject with a message is recorded; alwaysApprove never runs a call without a recorded approval", async () => {
    const pauseAndResume = async (answer: Answer) => {
      const gate = await makeGate(rules);
      const ran: string[] = [];
      const id = callId();
      const first = new ScriptedModel([[functionCall("deploy", { service: "api", env: "prod" }, { callId: id })]]);
      const tools = () => gateTools([deployTool(ran)], gate, asUser);
      const paused = await makeRunner().run(new Agent({ name: "ops", model: first, tools: tools() }), "deploy");
      const model = new ScriptedModel([[assistantMessage("finished")]]);
      const agent = new Agent({ name: "ops", model, tools: tools() });
      const state = await RunState.fromString(agent, paused.state.toString());
      for (const item of state.getInterruptions()) answer(state, item);
      await makeRunner().run(agent, state);
      return { gate, ran, id, seen: toolResultsSeenByModel(model.calls).get(id)! };
    };

    const rejected = await pauseAndResume((state, item) => state.reject(item, { alwaysReject: true, message: "no" }));
    expect(rejected.ran).toEqual([]);
    expect(byCall(rejected.gate, rejected.id).filter((d) => d.code === "approval_denied")).toHaveLength(1);
    expect(await rejected.gate.pendingEscalations()).toEqual([]);

    // Either the restored run asks the tool about the call again (SDK 0.20 re-checks an approved call's
    // input) and the approval counts for it, recorded; or it never does (0.16) and nothing is approved in the
    // gate: fail closed, the model reads why. Never a run without a recorded approval.
    const approved = await pauseAndResume((state, item) => state.approve(item, { alwaysApprove: true }));
    const allowed = byCall(approved.gate, approved.id).filter((d) => d.type === "allow");
    if (approved.ran.length > 0) {
      expect([approved.ran, approved.seen]).toEqual([["api@prod"], "deployed api to prod"]);
      expect(allowed[0]).toMatchObject({ code: "approved", approvedBy: "alice@example.com" });
    } else {
      expect(allowed).toEqual([]);
      expect(JSON.parse(approved.seen)).toMatchObject({ denied: true, decision: "escalate" });
      expect((await approved.gate.pendingEscalations()).map((r) => r.callId)).toEqual([approved.id]);
    }
  });
});
