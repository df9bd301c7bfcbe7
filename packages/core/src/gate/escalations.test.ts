import { describe, expect, it } from "vitest";
import { EscalationError } from "../errors/escalation-error.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { deniedToolResult, isDeniedToolResult } from "./approval.js";
import { GateKeeper } from "./gate-keeper.js";
import { MemoryStore } from "./memory-store.js";

const identity = await AgentIdentity.create("escalation-bot");
const rules = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
];

describe("approval plumbing in core", () => {
  it("pendingEscalationFor finds this gate's open escalation for a call id, and only that", async () => {
    const store = new MemoryStore();
    const gate = new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }), store });
    const other = new GateKeeper({
      identity: await AgentIdentity.create("other-bot"),
      policy: new PermissionPolicy({ name: "p", rules }),
      store,
    });
    const raised = await gate.checkToolCall({ toolName: "deploy", input: { env: "prod" }, callId: "c1" });
    await other.checkToolCall({ toolName: "deploy", input: { env: "prod" }, callId: "c2" });
    expect(await gate.pendingEscalationFor("c1")).toMatchObject({ escalationId: raised.escalationId, callId: "c1" });
    // Another agent's escalation under another call id, or an unknown id: none.
    expect(await gate.pendingEscalationFor("c2")).toBeUndefined();
    expect(await gate.pendingEscalationFor("nope")).toBeUndefined();
    await gate.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "ops" });
    expect(await gate.pendingEscalationFor("c1")).toBeUndefined();
    await expect(gate.pendingEscalationFor("")).rejects.toThrow(TypeError);
  });

  it("answerEscalation returns the settled decision even when another approver won, and audits both answers", async () => {
    const gate = new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }) });
    const raised = await gate.checkToolCall({ toolName: "deploy", input: {}, callId: "c" });
    const [a, b] = await Promise.all([
      gate.answerEscalation(raised.escalationId!, { approved: true, approvedBy: "alice" }),
      gate.answerEscalation(raised.escalationId!, { approved: false, approvedBy: "bob" }),
    ]);
    expect(a).toEqual(b);
    expect(["approved", "approval_denied"]).toContain(a.code);
    expect(await gate.answerEscalation(raised.escalationId!, true)).toEqual(a);
    expect(gate.decisions.filter((d) => d.code === "approval_superseded")).toHaveLength(2);
    await expect(gate.answerEscalation("unknown-id", true)).rejects.toSatisfy(
      (e: unknown) => EscalationError.isInstance(e) && e.code === "AGENTGATE_ESCALATION_UNKNOWN",
    );
  });

  it("policy.mayEscalate says which actions can ever need a human", () => {
    const policy = new PermissionPolicy({
      name: "p",
      rules: [
        ...rules,
        { action: "shell", allowed: true, requireApproval: true },
        { action: "llm_call", allowed: true, escalateAfter: 10 },
        { action: "file_read", allowed: true },
        { action: "network", allowed: false, requireApproval: true },
      ],
    });
    expect(
      ["tool_use", "shell", "llm_call", "file_read", "network", "unknown"].map((a) => policy.mayEscalate(a)),
    ).toEqual([true, true, true, false, false, false]);
  });

  it("isDeniedToolResult recognises deniedToolResult's output and nothing else", async () => {
    const gate = new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }) });
    const denied = deniedToolResult(await gate.checkToolCall({ toolName: "shell", input: {} }));
    expect(isDeniedToolResult(denied)).toBe(true);
    expect(isDeniedToolResult(JSON.parse(JSON.stringify(denied)))).toBe(true);
    for (const other of [
      null,
      "denied",
      { denied: true },
      { denied: "true", decision: "deny", code: "x", reason: "y" },
      { result: 1 },
    ]) {
      expect(isDeniedToolResult(other)).toBe(false);
    }
  });
});

describe("a repeat of a call whose escalation is pending", () => {
  const gateWith = (store: MemoryStore) =>
    new GateKeeper({
      identity,
      policy: new PermissionPolicy({
        name: "gone",
        rules: [{ action: "tool_use", allowed: true, requireApproval: true }],
      }),
      store,
    });

  it("still is the pending ESCALATE while the escalation waits, and the settled decision after", async () => {
    const gate = gateWith(new MemoryStore());
    const call = { toolName: "deploy", input: { to: "prod" }, callId: "pending-1" };
    const first = await gate.checkToolCall(call);
    expect(first.type).toBe("escalate");
    expect(await gate.checkToolCall(call)).toEqual(first);
    await gate.resolveEscalation(first.escalationId!, { approved: true, approvedBy: "ops" });
    expect(await gate.checkToolCall({ ...call, execute: true })).toMatchObject({ type: "allow", approvedBy: "ops" });
  });
});
