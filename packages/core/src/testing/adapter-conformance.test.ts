import { deniedToolResult } from "../gate/approval.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import type { ConformanceCall, ConformanceTools } from "./adapter-driver.js";
import { runAdapterConformance } from "./index.js";

// The suite against core alone: the smallest adapter there is (check, then run on
// ALLOW), which is the contract every framework driver builds on.

interface Paused {
  call: ConformanceCall;
  escalationId: string;
  answered?: boolean;
}

async function step(gate: GateKeeper, tools: ConformanceTools, call: ConformanceCall) {
  const decision = await gate.checkToolCall({
    toolName: call.toolName,
    input: call.input,
    callId: call.callId,
    execute: true,
  });
  if (decision.type === "allow") return { seen: tools.run(call.toolName, call.input) };
  if (decision.type === "escalate" && decision.escalationId)
    return { seen: undefined, paused: { call, escalationId: decision.escalationId } };
  return { seen: JSON.stringify(deniedToolResult(decision)) };
}

runAdapterConformance({
  name: "@agentgate/core (checkToolCall)",
  run: ({ gate, tools, call }) => step(gate, tools, call),
  async resume({ gate, tools, paused, answer, tamper, beforeContinue }) {
    const p = paused as Paused;
    if (!p.answered) await gate.answerEscalation(p.escalationId, answer);
    p.answered = true;
    beforeContinue?.();
    const call = { ...p.call };
    if (tamper?.kind === "input") call.input = tamper.input;
    if (tamper?.kind === "tool") call.toolName = tamper.toolName;
    if (tamper?.kind === "callId") call.callId = tamper.callId;
    return step(gate, tools, call);
  },
});
