import { Agent, RunState } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { gateTools, resolveGateInterruptions } from "./index.js";
import { callId, deployTool, makeGate, makeRunner, toolResultsSeenByModel } from "./test-utils/fixtures.js";

const rules = [{ action: "tool_use", allowed: true, allowedTargets: ["deploy"], escalateTargets: ["deploy"] }];

// A RunState string that went to a browser and came back: the client may edit anything in it.
describe('runState: "untrusted", in the process that paused the run', () => {
  it("arguments edited in the state string after the pause never run, even once a human approved the call", async () => {
    const gate = await makeGate(rules);
    const ran: string[] = [];
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("deploy", { service: "api", env: "staging" }, { callId: id })],
      [assistantMessage("finished")],
    ]);
    // One agent for the pause and the resume: the gated tool remembers what it saw for this call.
    const agent = new Agent({
      name: "ops",
      instructions: "",
      model,
      tools: gateTools([deployTool(ran)], gate, { runState: "untrusted" }),
    });
    const paused = await makeRunner().run(agent, "deploy api to staging");
    const sent = paused.state.toString();
    expect(sent).toContain('\\"env\\":\\"staging\\"');
    const edited = sent.replaceAll('\\"env\\":\\"staging\\"', '\\"env\\":\\"prod\\"');
    expect(edited).not.toBe(sent);

    const state = await RunState.fromString(agent, edited);
    const asked: unknown[] = [];
    await resolveGateInterruptions(state, gate, (request) => (asked.push(request.args), true));
    const result = await makeRunner().run(agent, state);

    expect(ran).not.toContain("api@prod");
    // The human was shown what would run, never the pre-edit arguments.
    expect(asked).not.toContainEqual({ service: "api", env: "staging" });
    expect(result.finalOutput).toBe("finished");
    expect(toolResultsSeenByModel(model.calls).get(id)).not.toBe("deployed api to prod");
  });
});
