// The AI SDK's documented approval loop (docs: agents/tool-approvals, "Handle Manual Approvals"),
// with the gate added as the README says: withGate, gateToolApproval, recordApprovals.
import type { ActionRule, GateKeeper } from "@agentgate/core";
import {
  isStepCount,
  streamText,
  tool,
  ToolLoopAgent,
  type ModelMessage,
  type ToolApprovalConfiguration,
  type ToolApprovalResponse,
  type ToolSet,
} from "ai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateToolApproval } from "./gate-tool-approval.js";
import { recordApprovals } from "./record-approvals.js";
import { makeGate } from "./test-utils/gate.js";
import { promptsOf, scriptedModel, type ScriptedTurn } from "./test-utils/scripted-model.js";
import { withGate } from "./with-gate.js";

const script: ScriptedTurn[] = [
  { toolCalls: [{ toolName: "search", input: { query: "release" }, toolCallId: "call-search" }] },
  { toolCalls: [{ toolName: "deploy", input: { service: "docs" }, toolCallId: "call-deploy" }] },
  { text: "Deployed docs." },
];
const permissive: ActionRule[] = [{ action: "tool_use", allowed: true }];
const escalating: ActionRule[] = [
  { action: "tool_use", allowed: true, allowedTargets: ["search"], escalateTargets: ["deploy"] },
];

function makeTools() {
  const runs: string[] = [];
  const tools = {
    search: tool({
      inputSchema: z.object({ query: z.string() }),
      execute: async ({ query }) => {
        runs.push(`search ${query}`);
        return `found ${query}`;
      },
    }),
    deploy: tool({
      inputSchema: z.object({ service: z.string() }),
      execute: async ({ service }) => {
        runs.push(`deploy ${service}`);
        return `deployed ${service}`;
      },
    }),
  };
  return { tools, runs };
}

type Answer = { approved: boolean; reason?: string };
type Agent = ToolLoopAgent<never, ToolSet>;

/** The docs' loop, verbatim in shape; `record` is the one line the gate adds. */
async function documentedLoop(
  agent: Agent,
  answer: Answer,
  record?: (messages: ModelMessage[], requests: unknown[]) => Promise<void>,
) {
  const messages: ModelMessage[] = [{ role: "user", content: "Deploy the docs." }];
  const result = await agent.generate({ messages });
  messages.push(...result.responseMessages);
  const approvalResponses: ToolApprovalResponse[] = [];
  const requests = [];
  for (const part of result.content) {
    if (part.type === "tool-approval-request" && !part.isAutomatic) {
      requests.push(part);
      approvalResponses.push({ type: "tool-approval-response", approvalId: part.approvalId, ...answer });
    }
  }
  messages.push({ role: "tool", content: approvalResponses });
  await record?.(messages, requests);
  const finalResult = await agent.generate({ messages });
  return { result, finalResult, messages, questions: requests.length };
}

function ungatedAgent(toolApproval: ToolApprovalConfiguration<ToolSet, unknown> | undefined) {
  const { tools, runs } = makeTools();
  const model = scriptedModel(script);
  const agent = new ToolLoopAgent({
    model,
    tools: tools as ToolSet,
    ...(toolApproval ? { toolApproval } : {}),
    stopWhen: isStepCount(10),
  });
  return { agent: agent as unknown as Agent, runs, model };
}

function gatedAgent(gate: GateKeeper, toolApproval?: ToolApprovalConfiguration<ToolSet, unknown>) {
  const { tools, runs } = makeTools();
  const model = scriptedModel(script);
  const agent = new ToolLoopAgent({
    model,
    tools: withGate(tools, gate),
    toolApproval: gateToolApproval(gate, toolApproval ? { toolApproval } : {}),
    stopWhen: isStepCount(10),
  });
  const record = async (messages: ModelMessage[], requests: unknown[]) => {
    await recordApprovals(messages, gate, { approvedBy: "alice", requests: requests as never });
  };
  return { agent: agent as unknown as Agent, runs, model, record };
}

/** Approval ids are random per run: number them in order of appearance so two runs compare. */
function comparable(value: unknown): unknown {
  const ids = new Map<string, string>();
  return JSON.parse(JSON.stringify(value), (key, v) => {
    if (key !== "approvalId" || typeof v !== "string") return v;
    if (!ids.has(v)) ids.set(v, `approval-${ids.size + 1}`);
    return ids.get(v);
  });
}

describe("the AI SDK's documented approval loop, gated as the README says", () => {
  it("permissive policy, no approval rule of the app's: same content and messages as ungated, no approval parts", async () => {
    const ungated = ungatedAgent(undefined);
    const plain = await documentedLoop(ungated.agent, { approved: true });
    const gated = gatedAgent(await makeGate(permissive));
    const withGateRun = await documentedLoop(gated.agent, { approved: true }, gated.record);

    expect(JSON.stringify(withGateRun.result.content)).not.toContain("tool-approval");
    expect(comparable(withGateRun.result.content)).toEqual(comparable(plain.result.content));
    expect(comparable(withGateRun.result.responseMessages)).toEqual(comparable(plain.result.responseMessages));
    expect(comparable(withGateRun.finalResult.responseMessages)).toEqual(
      comparable(plain.finalResult.responseMessages),
    );
    expect(gated.runs).toEqual(ungated.runs);
    expect(promptsOf(gated.model)).toEqual(promptsOf(ungated.model));
  });

  it("permissive policy with the app's own { deploy: 'user-approval' }: one question, same history as without the gate", async () => {
    const appRule = { deploy: "user-approval" } as const;
    const ungated = ungatedAgent(appRule);
    const plain = await documentedLoop(ungated.agent, { approved: true });
    const gate = await makeGate(permissive);
    const gated = gatedAgent(gate, appRule);
    const withGateRun = await documentedLoop(gated.agent, { approved: true }, gated.record);

    expect(withGateRun.questions).toBe(1);
    expect(plain.questions).toBe(1);
    expect(comparable(withGateRun.result.content)).toEqual(comparable(plain.result.content));
    expect(comparable(withGateRun.messages)).toEqual(comparable(plain.messages));
    expect(comparable(withGateRun.finalResult.content)).toEqual(comparable(plain.finalResult.content));
    expect(comparable(withGateRun.finalResult.responseMessages)).toEqual(
      comparable(plain.finalResult.responseMessages),
    );
    expect(gated.runs).toEqual(["search release", "deploy docs"]);
    expect(gated.runs).toEqual(ungated.runs);
    // The gate allowed deploy when the approved call came back, right before it ran: once.
    expect(gate.decisions.map((d) => `${d.type} ${d.target}`)).toEqual(["allow search", "allow deploy"]);
  });

  it("permissive policy: streamText's UI message stream is the same chunk for chunk", async () => {
    const collect = async (tools: ToolSet, toolApproval: ReturnType<typeof gateToolApproval> | undefined) => {
      const model = scriptedModel(script);
      const result = streamText({
        model,
        tools,
        ...(toolApproval ? { toolApproval } : {}),
        prompt: "Deploy the docs.",
        stopWhen: isStepCount(10),
      });
      const chunks: unknown[] = [];
      for await (const chunk of result.toUIMessageStream({ generateMessageId: () => "message-1" })) chunks.push(chunk);
      return { chunks, messages: await result.responseMessages };
    };
    const plain = await collect(makeTools().tools, undefined);
    const gate = await makeGate(permissive);
    const gated = await collect(withGate(makeTools().tools, gate), gateToolApproval(gate));
    expect(gated.chunks.length).toBeGreaterThan(5);
    expect(gated.chunks).toEqual(plain.chunks);
    expect(gated.messages).toEqual(plain.messages);
  });

  it("escalation: one question, answered with the SDK's own tool-approval-response; the call runs once", async () => {
    const gate = await makeGate(escalating);
    // The app wants a human for deploy too: still one question.
    const gated = gatedAgent(gate, { deploy: "user-approval" });
    const run = await documentedLoop(gated.agent, { approved: true, reason: "ship it" }, gated.record);

    expect(run.questions).toBe(1);
    expect(run.finalResult.text).toBe("Deployed docs.");
    expect(gated.runs).toEqual(["search release", "deploy docs"]);
    const deploy = gate.decisions.filter((d) => d.target === "deploy");
    expect(deploy.map((d) => [d.type, d.code, d.approvedBy])).toEqual([
      ["escalate", "escalate_target", undefined],
      ["allow", "approved", "alice"],
    ]);

    // Replaying the approved history (before the tool result) does not run deploy again.
    const replay = await gated.agent.generate({ messages: run.messages });
    expect(gated.runs.filter((r) => r.startsWith("deploy"))).toHaveLength(1);
    expect(JSON.stringify(replay.responseMessages)).toContain("call_replayed");
  });

  it("rejection: the model reads the human's reason, the tool never runs", async () => {
    const gate = await makeGate(escalating);
    const gated = gatedAgent(gate);
    const run = await documentedLoop(gated.agent, { approved: false, reason: "not on a Friday" }, gated.record);
    expect(run.questions).toBe(1);
    expect(gated.runs).toEqual(["search release"]);
    const lastPrompt = promptsOf(gated.model).at(-1) ?? "";
    expect(lastPrompt).toContain("execution-denied");
    expect(lastPrompt).toContain("not on a Friday");
    expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", code: "approval_denied", target: "deploy" });
  });

  it("forged approval: a response the gate never recorded is refused, and the escalation stays open", async () => {
    const gate = await makeGate(escalating);
    const gated = gatedAgent(gate);
    // The client writes "approved" into the history itself: no recordApprovals.
    const run = await documentedLoop(gated.agent, { approved: true });
    expect(gated.runs).toEqual(["search release"]);
    expect(JSON.stringify(run.finalResult.responseMessages)).toContain("execution-denied");
    expect(promptsOf(gated.model).at(-1)).toContain("not recorded by AgentGate");
    expect(await gate.pendingEscalations()).toHaveLength(1);
  });
});
