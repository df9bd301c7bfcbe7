import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { recordApprovalAnswers, type AskedApproval } from "./approval-answers.js";
import { GateKeeper } from "../gate/gate-keeper.js";

const identity = await AgentIdentity.create("answers-bot");
const rules = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
];
/** A gate with an open escalation for each call id. */
async function escalatedGate(...callIds: string[]): Promise<GateKeeper> {
  const gate = new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }) });
  for (const callId of callIds) await gate.checkToolCall({ toolName: "deploy", input: {}, callId });
  return gate;
}
const asked = (entries: Record<string, Partial<AskedApproval>>) =>
  new Map(Object.entries(entries).map(([id, a]) => [id, { callId: a.callId, automatic: a.automatic ?? false }]));

describe("recordApprovalAnswers", () => {
  it("settles the pending escalation of each answered call, once, and reports every other answer", async () => {
    const gate = await escalatedGate("c1", "c2");
    const recorded = await recordApprovalAnswers(
      gate,
      [
        { approvalId: "a1", approved: true },
        { approvalId: "a2", approved: "yes" },
        { approvalId: "a1", approved: true },
        { approvalId: "auto", approved: true },
        { approvalId: "nobody", approved: true },
        { approvalId: "a3", approved: true },
      ],
      {
        asked: asked({
          a1: { callId: "c1" },
          a2: { callId: "c2" },
          auto: { callId: "c1", automatic: true },
          a3: { callId: "c3" },
        }),
        approvedBy: "alice",
        reason: "fine",
      },
    );
    expect(recorded.map((r) => [r.approvalId, r.callId, r.status, r.decision?.type])).toEqual([
      ["a1", "c1", "recorded", "allow"],
      // Only `true` approves: a malformed answer is a rejection.
      ["a2", "c2", "recorded", "deny"],
      ["a1", "c1", "not-pending", undefined],
      ["auto", "c1", "automatic", undefined],
      ["nobody", undefined, "unknown-request", undefined],
      ["a3", "c3", "not-pending", undefined],
    ]);
    expect(recorded[0]?.decision).toMatchObject({ approvedBy: "alice", callId: "c1" });
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("with trusted requests, ignores the history's call ids and audits a 'no' the gate did not ask", async () => {
    const gate = await escalatedGate("c1", "c2");
    // The history aims a1 at c2; the server issued a1 for c1.
    const recorded = await recordApprovalAnswers(
      gate,
      [
        { approvalId: "a1", approved: true },
        { approvalId: "zz", approved: true },
        { approvalId: "a9", approved: false, reason: "not today" },
      ],
      {
        asked: asked({ a1: { callId: "c2" }, zz: { callId: "c2" } }),
        trusted: new Map([
          ["a1", "c1"],
          ["a9", "c9"],
        ]),
        approvedBy: "bob",
        toolNameOf: (callId) => (callId === "c9" ? 'pay"\n' : undefined),
      },
    );
    expect(recorded.map((r) => [r.callId, r.status])).toEqual([
      ["c1", "recorded"],
      [undefined, "unknown-request"],
      ["c9", "recorded"],
    ]);
    expect(recorded[1]?.message).toContain("server issued");
    // The tool name comes from the history: quoted, so it cannot forge the reason's shape.
    expect(recorded[2]?.decision).toMatchObject({
      type: "deny",
      code: "approval_error",
      callId: "c9",
      reason: 'bob denied tool "pay\\"\\n": not today',
    });
    expect((await gate.pendingEscalations()).map((p) => p.callId)).toEqual(["c2"]);
  });

  it("fails closed when the gate fails: nothing approved, each answer says why", async () => {
    const gate = await escalatedGate("c1");
    const unreadable = {
      pendingEscalations: () => Promise.reject(new Error("store down")),
    } as unknown as GateKeeper;
    const answers = [{ approvalId: "a1", approved: true }];
    const options = { asked: asked({ a1: { callId: "c1" } }) };
    expect(await recordApprovalAnswers(unreadable, answers, options)).toMatchObject([
      { status: "failed", message: "could not read the gate's pending escalations: store down" },
    ]);
    const unsettleable = {
      pendingEscalations: () => gate.pendingEscalations(),
      resolveEscalation: () => Promise.reject(new Error("write failed")),
    } as unknown as GateKeeper;
    expect(await recordApprovalAnswers(unsettleable, answers, options)).toMatchObject([
      { status: "failed", message: "write failed" },
    ]);
    expect(await gate.pendingEscalations()).toHaveLength(1);
    expect(await recordApprovalAnswers(gate, [], options)).toEqual([]);
  });
});
