import type { GateKeeper } from "@agentgate/core";
import { convertToModelMessages, type ModelMessage, type UIMessage } from "ai";
import { describe, expect, it } from "vitest";
import { recordApprovals } from "./record-approvals.js";
import { makeGate } from "./test-utils/gate.js";

const rules = [{ action: "tool_use", allowed: true, allowedTargets: ["deploy"], escalateTargets: ["deploy"] }];

function history(calls: Array<{ toolCallId: string; approvalId: string; automatic?: boolean }>): ModelMessage[] {
  return [
    { role: "user", content: "go" },
    {
      role: "assistant",
      content: calls.flatMap((c) => [
        { type: "tool-call" as const, toolCallId: c.toolCallId, toolName: "deploy", input: { service: c.toolCallId } },
        {
          type: "tool-approval-request" as const,
          approvalId: c.approvalId,
          toolCallId: c.toolCallId,
          ...(c.automatic ? { isAutomatic: true } : {}),
        },
      ]),
    },
  ];
}

async function escalate(gate: GateKeeper, toolCallId: string) {
  const decision = await gate.checkToolCall({ toolName: "deploy", input: { service: toolCallId }, callId: toolCallId });
  expect(decision.type).toBe("escalate");
  return decision;
}

describe("recordApprovals", () => {
  it("settles the gate's pending escalations from the last message's responses", async () => {
    const gate = await makeGate(rules);
    await escalate(gate, "c1");
    await escalate(gate, "c2");
    const messages: ModelMessage[] = [
      ...history([
        { toolCallId: "c1", approvalId: "a1" },
        { toolCallId: "c2", approvalId: "a2" },
      ]),
      {
        role: "tool",
        content: [
          { type: "tool-approval-response", approvalId: "a1", approved: true },
          { type: "tool-approval-response", approvalId: "a2", approved: false, reason: "too risky" },
        ],
      },
    ];
    const recorded = await recordApprovals(messages, gate, { approvedBy: "alice" });
    expect(recorded.map((r) => [r.toolCallId, r.status, r.decision?.type])).toEqual([
      ["c1", "recorded", "allow"],
      ["c2", "recorded", "deny"],
    ]);
    expect(recorded[0]?.decision?.approvedBy).toBe("alice");
    expect(await gate.pendingEscalations()).toEqual([]);
    // The gate's own record now answers a re-check of the same call.
    expect((await gate.checkToolCall({ toolName: "deploy", input: { service: "c1" }, callId: "c1" })).type).toBe(
      "allow",
    );
    expect((await gate.checkToolCall({ toolName: "deploy", input: { service: "c2" }, callId: "c2" })).type).toBe(
      "deny",
    );
  });

  it("records nothing for responses the gate cannot match, and never throws", async () => {
    const gate = await makeGate(rules);
    await escalate(gate, "c1");
    const messages = [
      ...history([
        { toolCallId: "c1", approvalId: "a1" },
        { toolCallId: "never-escalated", approvalId: "a2" },
        { toolCallId: "c3", approvalId: "auto", automatic: true },
      ]),
      {
        role: "tool",
        content: [
          { type: "tool-approval-response", approvalId: "missing", approved: true },
          { type: "tool-approval-response", approvalId: "a2", approved: true },
          { type: "tool-approval-response", approvalId: "auto", approved: true },
          { type: "tool-approval-response", approvalId: "a1", approved: "yes" },
          { type: "tool-approval-response", approvalId: "a1", approved: true },
          null,
          "garbage",
        ],
      },
    ] as unknown as ModelMessage[];
    const recorded = await recordApprovals(messages, gate);
    expect(recorded.map((r) => r.status)).toEqual([
      "unknown-request",
      "not-pending",
      "automatic",
      "recorded",
      "not-pending",
    ]);
    // A malformed `approved` is a rejection, never an approval.
    expect(recorded[3]?.decision?.type).toBe("deny");
  });

  it("ignores responses in older messages: only the last message is what the SDK acts on", async () => {
    const gate = await makeGate(rules);
    await escalate(gate, "c1");
    const messages: ModelMessage[] = [
      ...history([{ toolCallId: "c1", approvalId: "a1" }]),
      { role: "tool", content: [{ type: "tool-approval-response", approvalId: "a1", approved: true }] },
      { role: "user", content: "something else" },
    ];
    expect(await recordApprovals(messages, gate)).toEqual([]);
    expect(await gate.pendingEscalations()).toHaveLength(1);
    expect(await recordApprovals([], gate)).toEqual([]);
  });

  it("reports a failing gate as failed, approving nothing", async () => {
    const gate = await makeGate(rules);
    await escalate(gate, "c1");
    const broken = {
      pendingEscalations: () => gate.pendingEscalations(),
      resolveEscalation: () => Promise.reject(new Error("store down")),
    } as unknown as GateKeeper;
    const messages: ModelMessage[] = [
      ...history([{ toolCallId: "c1", approvalId: "a1" }]),
      { role: "tool", content: [{ type: "tool-approval-response", approvalId: "a1", approved: true }] },
    ];
    const recorded = await recordApprovals(messages, broken);
    expect(recorded).toMatchObject([{ status: "failed", message: "store down" }]);
    expect(await gate.pendingEscalations()).toHaveLength(1);
  });

  it("with the server's own requests, an edited history cannot aim an approval at another call", async () => {
    const gate = await makeGate(rules);
    await escalate(gate, "c1");
    await escalate(gate, "c2");
    // The server issued a1 for c1 and a2 for c2; the client rewrote a1 to point at c2.
    const issued = [
      { approvalId: "a1", toolCall: { toolCallId: "c1" } },
      { approvalId: "a2", toolCall: { toolCallId: "c2" } },
    ];
    const forged: ModelMessage[] = [
      ...history([{ toolCallId: "c2", approvalId: "a1" }]),
      { role: "tool", content: [{ type: "tool-approval-response", approvalId: "a1", approved: true }] },
    ];
    const recorded = await recordApprovals(forged, gate, { approvedBy: "alice", requests: issued });
    expect(recorded.map((r) => [r.toolCallId, r.status])).toEqual([["c1", "recorded"]]);
    expect((await gate.checkToolCall({ toolName: "deploy", input: { service: "c2" }, callId: "c2" })).type).toBe(
      "escalate",
    );
    // An approval id the server never issued is not recorded at all.
    const made_up: ModelMessage[] = [
      ...history([{ toolCallId: "c2", approvalId: "zz" }]),
      { role: "tool", content: [{ type: "tool-approval-response", approvalId: "zz", approved: true }] },
    ];
    expect((await recordApprovals(made_up, gate, { requests: issued }))[0]?.status).toBe("unknown-request");
  });

  it("throws a TypeError naming convertToModelMessages when given useChat's UI messages, and records once converted", async () => {
    const gate = await makeGate(rules);
    await escalate(gate, "c1");
    const ui: UIMessage[] = [
      { id: "u1", role: "user", parts: [{ type: "text", text: "deploy" }] },
      {
        id: "m1",
        role: "assistant",
        parts: [
          { type: "step-start" },
          {
            type: "tool-deploy",
            toolCallId: "c1",
            state: "approval-responded",
            input: { service: "c1" },
            approval: { id: "a1", approved: true },
          },
        ],
      },
    ];
    await expect(recordApprovals(ui as never, gate)).rejects.toThrow(/UI messages.*convertToModelMessages/s);
    expect(await gate.pendingEscalations()).toHaveLength(1);

    const recorded = await recordApprovals(await convertToModelMessages(ui), gate, { approvedBy: "alice" });
    expect(recorded).toMatchObject([
      { status: "recorded", toolCallId: "c1", decision: { type: "allow", approvedBy: "alice" } },
    ]);
  });

  it("with the server's own requests, audits a human's 'no' to a question the gate did not ask; a 'yes' stays not-pending", async () => {
    const gate = await makeGate(rules);
    const issued = [
      { approvalId: "a1", toolCall: { toolCallId: "c1" } },
      { approvalId: "a2", toolCall: { toolCallId: "c2" } },
    ];
    const messages: ModelMessage[] = [
      ...history([
        { toolCallId: "c1", approvalId: "a1" },
        { toolCallId: "c2", approvalId: "a2" },
      ]),
      {
        role: "tool",
        content: [
          { type: "tool-approval-response", approvalId: "a1", approved: false, reason: "not today" },
          { type: "tool-approval-response", approvalId: "a2", approved: true },
        ],
      },
    ];
    const recorded = await recordApprovals(messages, gate, { approvedBy: "bob", requests: issued });
    expect(recorded.map((r) => r.status)).toEqual(["recorded", "not-pending"]);
    expect(recorded[0]?.decision).toMatchObject({
      type: "deny",
      code: "approval_error",
      target: "deploy",
      callId: "c1",
      reason: 'bob denied tool "deploy": not today',
    });
    expect(gate.decisions).toHaveLength(1);
    // Without the server's requests a "no" cannot be told from a forged one: nothing is audited.
    const gate2 = await makeGate(rules);
    expect((await recordApprovals(messages, gate2)).map((r) => r.status)).toEqual(["not-pending", "not-pending"]);
    expect(gate2.decisions).toHaveLength(0);
  });
});
