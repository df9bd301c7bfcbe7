import type { GateKeeper } from "@agentgate/core";
import { runAdapterConformance, type ConformanceTamper, type ConformanceTools } from "@agentgate/core/testing";
import { Agent, RunState, tool } from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { z } from "zod";
import { gateTools, resolveGateInterruptions } from "./index.js";
import { makeRunner, toolResultsSeenByModel, type AnyRunResult } from "./test-utils/fixtures.js";

// The shared adapter conformance suite, through the real Runner loop with the SDK's
// ScriptedModel. A paused call is an interrupted RunResult; the human answers through
// resolveGateInterruptions, and the saved state (state.toString()) is what gets edited,
// resumed and replayed. Agents are gated with `runState: "untrusted"`, as an app whose
// saved state travels through a browser or a database must.

interface Paused {
  result: AnyRunResult;
  callId: string;
  saved?: string;
}

function agentWith(gate: GateKeeper, tools: ConformanceTools, model: ScriptedModel) {
  const gated = tools.names.map((name) =>
    tool({
      name,
      description: `the ${name} tool`,
      parameters: z.object({ service: z.string() }),
      execute: async (input) => tools.run(name, input),
    }),
  );
  return new Agent({ name: "ops", instructions: "", model, tools: gateTools(gated, gate, { runState: "untrusted" }) });
}

/** Edits every copy in the saved state, including the SDK's own, so only the gate stands in the way. */
function edit(saved: string, p: Paused, tamper: ConformanceTamper | undefined): { text: string; callId: string } {
  if (!tamper) return { text: saved, callId: p.callId };
  if (tamper.kind === "input") return { text: saved.replaceAll("docs", tamper.input.service), callId: p.callId };
  if (tamper.kind === "tool") return { text: saved.replaceAll("deploy", tamper.toolName), callId: p.callId };
  return { text: saved.replaceAll(p.callId, tamper.callId), callId: tamper.callId };
}

const finishing = () => new ScriptedModel([[assistantMessage("finished")], [assistantMessage("finished")]]);

runAdapterConformance({
  name: "@agentgate/openai-agents",
  async run({ gate, tools, call }) {
    const model = new ScriptedModel([
      [functionCall(call.toolName, call.input, { callId: call.callId })],
      [assistantMessage("finished")],
    ]);
    const result = await makeRunner().run(agentWith(gate, tools, model), "go");
    const paused: Paused | undefined = result.interruptions.length > 0 ? { result, callId: call.callId } : undefined;
    return { seen: toolResultsSeenByModel(model.calls).get(call.callId), paused };
  },
  async resume({ gate, tools, paused, answer, tamper, beforeContinue }) {
    const p = paused as Paused;
    // A replay resumes the state saved after the first answer.
    if (p.saved === undefined) {
      await resolveGateInterruptions(p.result, gate, () => answer);
      p.saved = p.result.state.toString();
    }
    beforeContinue?.();
    const { text, callId } = edit(p.saved, p, tamper);
    const model = finishing();
    const agent = agentWith(gate, tools, model);
    const result = await makeRunner().run(agent, await RunState.fromString(agent, text));
    return {
      seen: toolResultsSeenByModel(model.calls).get(callId),
      paused: result.interruptions.length > 0 ? { result, callId } : undefined,
    };
  },
});
