import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { decideToolApproval, type ToolApprovalRequest } from "./approval-verdict.js";
import { GateKeeper, type GateKeeperOptions } from "../gate/gate-keeper.js";

const identity = await AgentIdentity.create("verdict-bot");
const rules = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
  { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"] },
];
const newGate = (options: Partial<GateKeeperOptions> = {}) =>
  new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }), ...options });
const call = (toolName: string, callId: string, more: Partial<ToolApprovalRequest> = {}): ToolApprovalRequest => ({
  toolName,
  input: {},
  callId,
  answered: () => false,
  appRule: "toolApproval",
  ...more,
});
const audit = (gate: GateKeeper) => gate.decisions.map((d) => `${d.type} ${d.code} ${d.target}`);

describe("decideToolApproval", () => {
  it("an allowed call nobody objects to is not-applicable; a gate DENY and an escalation say why", async () => {
    const gate = newGate();
    expect(await decideToolApproval(gate, call("search", "c1"))).toEqual({ type: "not-applicable" });
    expect(await decideToolApproval(gate, call("shell", "c2"))).toMatchObject({ type: "denied" });
    expect(await decideToolApproval(gate, call("deploy", "c3"))).toMatchObject({ type: "user-approval" });
    expect(audit(gate)).toEqual([
      "allow allowed search",
      "deny target_not_allowed shell",
      "escalate escalate_target deploy",
    ]);
  });

  it("an app DENY, throw or unknown status ends the call without a gate check, audited once", async () => {
    const gate = newGate();
    const verdicts = await Promise.all([
      decideToolApproval(gate, call("deploy", "c1", { app: () => ({ type: "denied", reason: "nope" }) })),
      decideToolApproval(gate, call("search", "c2", { app: () => Promise.reject(new Error("db down")) })),
      decideToolApproval(gate, call("search", "c3", { app: () => "maybe" })),
    ]);
    expect(verdicts).toEqual([
      { type: "denied", reason: "nope" },
      { type: "denied", reason: "your toolApproval failed (db down), so the call is denied" },
      { type: "denied", reason: "your toolApproval returned an unknown status (maybe), so the call is denied" },
    ]);
    expect(audit(gate)).toEqual([
      "deny approval_error deploy",
      "deny approval_error search",
      "deny approval_error search",
    ]);
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("the app wants a human for an allowed call: asks without a gate check, then the gate counts the answered call", async () => {
    const gate = newGate();
    const app = () => ({ type: "user-approval", reason: "costly" });
    expect(await decideToolApproval(gate, call("search", "c1", { app }))).toEqual({
      type: "user-approval",
      reason: "costly",
    });
    expect(gate.decisions).toHaveLength(0);
    const resumed = await decideToolApproval(gate, call("search", "c1", { app, answered: () => true }));
    expect(resumed).toMatchObject({ type: "approved" });
    expect(audit(gate)).toEqual(["allow allowed search"]);
    // A mapped target the policy denies is checked (and refused) at once, never sent to a human.
    const mapping = { readFile: { action: "file_read", target: (i: { path: string }) => i.path } };
    const denied = await decideToolApproval(
      gate,
      call("readFile", "c2", { app, mapping, input: { path: "/etc/passwd" } }),
    );
    expect(denied).toMatchObject({ type: "denied" });
  });

  it("an answered call the gate still shows as escalated is denied: the history's answer is not trusted", async () => {
    const gate = newGate();
    await decideToolApproval(gate, call("deploy", "c1"));
    const verdict = await decideToolApproval(gate, call("deploy", "c1", { answered: () => true }));
    expect(verdict).toMatchObject({ type: "denied" });
    expect((verdict as { reason: string }).reason).toContain("not recorded by AgentGate");
  });

  it("the app's approval stands for an allowed call; the gate's approval handler's yes is `approved`", async () => {
    const gate = newGate({ approvalHandler: () => ({ approved: true, approvedBy: "ops" }) });
    expect(await decideToolApproval(gate, call("search", "c1", { app: () => "approved" }))).toMatchObject({
      type: "approved",
    });
    expect(await decideToolApproval(gate, call("deploy", "c2", { app: () => "user-approval" }))).toMatchObject({
      type: "approved",
    });
    expect(gate.decisions.at(-1)).toMatchObject({ type: "allow", approvedBy: "ops", callId: "c2" });
  });

  it("fails closed on a context resolver that throws or a history that cannot be read", async () => {
    const gate = newGate();
    const badContext = await decideToolApproval(gate, call("search", "c1", { context: () => [] as never }));
    expect(badContext).toMatchObject({ type: "denied" });
    expect(gate.decisions.at(-1)).toMatchObject({
      type: "deny",
      code: "internal_error",
      target: "search",
      callId: "c1",
    });
    const badHistory = await decideToolApproval(
      gate,
      call("search", "c2", {
        answered: () => {
          throw new Error("hostile getter");
        },
      }),
    );
    expect(badHistory).toMatchObject({ type: "denied", reason: expect.stringContaining("hostile getter") });
  });

  it("adds a retry hint to a rate limit's reason", async () => {
    const gate = new GateKeeper({
      identity,
      policy: new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true, maxPerMinute: 1 }] }),
    });
    await decideToolApproval(gate, call("search", "c1"));
    const limited = await decideToolApproval(gate, call("search", "c2"));
    expect(limited).toMatchObject({ type: "denied", reason: expect.stringMatching(/retry/i) });
  });
});
