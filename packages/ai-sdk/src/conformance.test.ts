import { runAdapterConformance, type ConformanceTamper, type ConformanceTools } from "@agentgate/core/testing";
import type { GateKeeper } from "@agentgate/core";
import { generateText, isStepCount, tool, type ModelMessage } from "ai";
import { z } from "zod";
import { gateToolApproval } from "./gate-tool-approval.js";
import { recordApprovals } from "./record-approvals.js";
import { promptsOf, scriptedModel } from "./test-utils/scripted-model.js";
import { withGate } from "./with-gate.js";

// The shared adapter conformance suite, through the real generateText loop with the
// AI SDK's MockLanguageModel. A paused call is the history plus its approval id; the
// human answers with a tool-approval-response, recorded by recordApprovals.

interface Paused {
  messages: ModelMessage[];
  approvalId: string;
}

function gatedTools(gate: GateKeeper, tools: ConformanceTools) {
  const one = (name: string) =>
    tool({
      inputSchema: z.object({ service: z.string() }),
      execute: async (input: { service: string }) => tools.run(name, input),
    });
  return withGate(Object.fromEntries(tools.names.map((n) => [n, one(n)])), gate);
}

/** Applies an edit to every copy of the call in the history. */
function tampered(messages: ModelMessage[], tamper: ConformanceTamper | undefined): ModelMessage[] {
  const copy = structuredClone(messages);
  if (!tamper) return copy;
  for (const m of copy) {
    if (m.role !== "assistant" && m.role !== "tool") continue;
    if (typeof m.content === "string") continue;
    for (const p of m.content) {
      if (p.type === "tool-call" && tamper.kind === "input") p.input = tamper.input;
      if (p.type === "tool-call" && tamper.kind === "tool") p.toolName = tamper.toolName;
      if ((p.type === "tool-call" || p.type === "tool-approval-request") && tamper.kind === "callId")
        p.toolCallId = tamper.callId;
    }
  }
  return copy;
}

async function turn(
  gate: GateKeeper,
  tools: ConformanceTools,
  model: ReturnType<typeof scriptedModel>,
  messages: ModelMessage[],
) {
  const result = await generateText({
    model,
    tools: gatedTools(gate, tools),
    toolApproval: gateToolApproval(gate),
    messages,
    stopWhen: isStepCount(3),
  });
  const request = result.content.find((p) => p.type === "tool-approval-request" && !p.isAutomatic);
  const paused: Paused | undefined =
    request?.type === "tool-approval-request"
      ? { messages: [...messages, ...result.responseMessages], approvalId: request.approvalId }
      : undefined;
  // The last prompt holds the tool result, if the model was called again after the call.
  const prompts = promptsOf(model);
  return { seen: prompts.length > 1 ? prompts.at(-1) : undefined, paused };
}

runAdapterConformance({
  name: "@agentgate/ai-sdk",
  async run({ gate, tools, call }) {
    const model = scriptedModel([
      { toolCalls: [{ toolName: call.toolName, input: call.input, toolCallId: call.callId }] },
      { text: "done" },
    ]);
    return turn(gate, tools, model, [{ role: "user", content: "go" }]);
  },
  async resume({ gate, tools, paused, answer, tamper, beforeContinue }) {
    const { messages, approvalId } = paused as Paused;
    const response: ModelMessage = {
      role: "tool",
      content: [
        {
          type: "tool-approval-response",
          approvalId,
          approved: answer.approved,
          ...(answer.reason ? { reason: answer.reason } : {}),
        },
      ],
    };
    const answered = [...messages, response];
    await recordApprovals(answered, gate, { approvedBy: answer.approvedBy });
    beforeContinue?.();
    const model = scriptedModel([{ text: "done" }]);
    const result = await turn(gate, tools, model, tampered(answered, tamper));
    return { seen: promptsOf(model).at(-1), paused: result.paused };
  },
});
