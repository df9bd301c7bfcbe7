// gateToolApproval composed with the app's own toolApproval: a denial from either side ends the
// call without asking, a human is asked once when either side wants one, the audit says what happened.
import type { ActionRule } from "@agentgate/core";
import { generateText, isStepCount, tool, type ModelMessage, type ToolApprovalConfiguration, type ToolSet } from "ai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateToolApproval } from "./gate-tool-approval.js";
import { recordApprovals } from "./record-approvals.js";
import { makeGate } from "./test-utils/gate.js";
import { promptsOf, scriptedModel } from "./test-utils/scripted-model.js";
import { withGate } from "./with-gate.js";

const rules: ActionRule[] = [
  {
    action: "tool_use",
    allowed: true,
    allowedTargets: ["pay", "search"],
    escalateTargets: ["deploy"],
    deniedTargets: ["shell"],
  },
];

function setup() {
  const runs: string[] = [];
  const make = (name: string) =>
    tool({
      inputSchema: z.object({ value: z.string() }),
      execute: async ({ value }) => {
        runs.push(`${name} ${value}`);
        return `${name} done`;
      },
    });
  return { runs, tools: { pay: make("pay"), search: make("search"), deploy: make("deploy"), shell: make("shell") } };
}

async function firstTurn(toolName: string, appRule: ToolApprovalConfiguration<ToolSet, unknown>) {
  const gate = await makeGate(rules);
  const { runs, tools } = setup();
  const model = scriptedModel([
    { toolCalls: [{ toolName, input: { value: "x" }, toolCallId: `c-${toolName}` }] },
    { text: "ok" },
  ]);
  const settings = {
    model,
    tools: withGate(tools, gate),
    toolApproval: gateToolApproval(gate, { toolApproval: appRule }),
    stopWhen: isStepCount(5),
  };
  const messages: ModelMessage[] = [{ role: "user", content: "go" }];
  const result = await generateText({ ...settings, messages });
  messages.push(...result.responseMessages);
  const questions = result.content.filter((p) => p.type === "tool-approval-request" && !p.isAutomatic);
  const resume = async (approved: boolean, reason?: string) => {
    const responses = questions.map((q) => ({
      type: "tool-approval-response" as const,
      approvalId: (q as { approvalId: string }).approvalId,
      approved,
      ...(reason ? { reason } : {}),
    }));
    messages.push({ role: "tool", content: responses });
    await recordApprovals(messages, gate, { approvedBy: "alice", requests: questions as never });
    return generateText({ ...settings, messages });
  };
  return { gate, runs, model, result, questions, resume, messages };
}

const audit = (gate: Awaited<ReturnType<typeof makeGate>>) =>
  gate.decisions.map((d) => `${d.type} ${d.code} ${d.target}`);

describe("gateToolApproval composed with the app's toolApproval", () => {
  it("app DENY on a call the gate would escalate: no question, no open escalation, one audited DENY, the model reads the app's reason", async () => {
    const run = await firstTurn("deploy", { deploy: { type: "denied", reason: "deploys are frozen" } });
    expect(run.questions).toHaveLength(0);
    expect(run.runs).toEqual([]);
    expect(await run.gate.pendingEscalations()).toEqual([]);
    expect(audit(run.gate)).toEqual(["deny approval_error deploy"]);
    expect(run.gate.decisions[0]?.reason).toContain("deploys are frozen");
    expect(promptsOf(run.model)[1]).toContain("deploys are frozen");
  });

  it("app DENY on a call the policy allows: no ALLOW on record for a call that never ran", async () => {
    const run = await firstTurn("pay", () => ({ type: "denied", reason: "only admins pay" }));
    expect(run.runs).toEqual([]);
    expect(audit(run.gate)).toEqual(["deny approval_error pay"]);
    expect(run.gate.decisions.some((d) => d.type === "allow")).toBe(false);
  });

  it("gate DENY on a call the app wants a human for: no question", async () => {
    const run = await firstTurn("shell", { shell: "user-approval" });
    expect(run.questions).toHaveLength(0);
    expect(run.runs).toEqual([]);
    expect(audit(run.gate)).toEqual(["deny denied_target shell"]);
  });

  it("app wants a human, policy allows: one question; the gate allows when the approved call comes back, and it runs once", async () => {
    const run = await firstTurn("pay", { pay: { type: "user-approval", reason: "payments need a human" } });
    expect(run.questions).toHaveLength(1);
    expect(run.questions[0]).toMatchObject({ reason: "payments need a human" });
    expect(run.gate.decisions).toEqual([]); // nothing decided yet: nothing ran
    const final = await run.resume(true);
    expect(final.text).toBe("ok");
    expect(run.runs).toEqual(["pay x"]);
    expect(audit(run.gate)).toEqual(["allow allowed pay"]);
  });

  it("app wants a human, policy allows, the human says no: no ALLOW on record, the 'no' audited, the model reads the reason", async () => {
    const run = await firstTurn("pay", { pay: "user-approval" });
    await run.resume(false, "too expensive");
    expect(run.runs).toEqual([]);
    expect(audit(run.gate)).toEqual(["deny approval_error pay"]);
    expect(run.gate.decisions[0]).toMatchObject({ callId: "c-pay", reason: 'alice denied tool "pay": too expensive' });
    expect(promptsOf(run.model).at(-1)).toContain("too expensive");
  });

  it("both want a human: one question, the gate's, and the answer is recorded with who gave it", async () => {
    const run = await firstTurn("deploy", { deploy: "user-approval" });
    expect(run.questions).toHaveLength(1);
    await run.resume(true);
    expect(run.runs).toEqual(["deploy x"]);
    expect(run.gate.decisions.map((d) => [d.type, d.code, d.approvedBy])).toEqual([
      ["escalate", "escalate_target", undefined],
      ["allow", "approved", "alice"],
    ]);
  });

  it("gate escalates, the app says not-applicable or approved: the gate's question is still asked", async () => {
    for (const appRule of [{ deploy: "approved" as const }, () => undefined]) {
      const run = await firstTurn("deploy", appRule);
      expect(run.questions).toHaveLength(1);
      expect(run.runs).toEqual([]);
    }
  });

  it("app approves an allowed call: the SDK's automatic approval parts, as without the gate", async () => {
    const run = await firstTurn("search", { search: { type: "approved", reason: "read-only" } });
    expect(run.runs).toEqual(["search x"]);
    expect(run.result.steps[0]?.content.find((p) => p.type === "tool-approval-response")).toMatchObject({
      approved: true,
      reason: "read-only",
    });
  });

  it("an app-asked call edited in the history into a call the policy denies is refused when it comes back approved", async () => {
    const run = await firstTurn("pay", { pay: "user-approval", shell: "user-approval" });
    // The client rewrites the call before sending its approval back.
    for (const m of run.messages) {
      if (m.role !== "assistant" || typeof m.content === "string") continue;
      for (const p of m.content) if (p.type === "tool-call") p.toolName = "shell";
    }
    await run.resume(true);
    expect(run.runs).toEqual([]);
    expect(audit(run.gate)).toEqual(["deny denied_target shell"]);
  });

  it("with the gate's own approval handler, both wanting a human still asks once: the handler's answer, no SDK request", async () => {
    let asked = 0;
    const gate = await makeGate(rules, {
      approvalHandler: async () => {
        asked++;
        return { approved: true, approvedBy: "oncall" };
      },
    });
    const { runs, tools } = setup();
    const model = scriptedModel([
      { toolCalls: [{ toolName: "deploy", input: { value: "x" }, toolCallId: "c-h" }] },
      { text: "ok" },
    ]);
    const result = await generateText({
      model,
      tools: withGate(tools, gate),
      toolApproval: gateToolApproval(gate, { toolApproval: { deploy: "user-approval" } }),
      prompt: "go",
      stopWhen: isStepCount(5),
    });
    expect(asked).toBe(1);
    expect(result.content.filter((p) => p.type === "tool-approval-request" && !p.isAutomatic)).toEqual([]);
    expect(runs).toEqual(["deploy x"]);
    expect(result.text).toBe("ok");
  });
});
