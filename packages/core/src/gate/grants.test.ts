import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { GateKeeper } from "./gate-keeper.js";
import { settleStoredEscalation, type Grant } from "./grants.js";
import { MemoryStore } from "./memory-store.js";

const identity = await AgentIdentity.create("deploy-bot");
const policy = new PermissionPolicy({
  name: "p",
  rules: [
    { action: "tool_use", allowed: true, escalateTargets: ["deploy"], deniedTargets: ["rm"] },
    { action: "file_read", allowed: true, requireApproval: true, denyAfter: 2 },
  ],
});

function setup() {
  let now = Date.UTC(2026, 0, 1);
  const store = new MemoryStore();
  const gate = new GateKeeper({ identity, policy, store, grants: store, clock: () => now });
  const grant = (over: Partial<Grant> = {}): Grant => ({
    id: "g1",
    agentId: identity.id,
    action: "tool_use",
    target: "deploy",
    tool: "deploy",
    approvedBy: "alice",
    createdAt: now,
    expiresAt: now + 3_600_000,
    ...over,
  });
  return { store, gate, grant, advance: (ms: number) => (now += ms), now: () => now };
}

describe("grants", () => {
  it("a live grant ALLOWs a matching escalation with code granted, grant id and approver", async () => {
    const { store, gate, grant } = setup();
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).type).toBe("escalate");
    store.createGrant(grant());
    const d = await gate.checkToolCall({ toolName: "deploy", input: {}, callId: "c1" });
    expect(d).toMatchObject({ type: "allow", code: "granted", grantId: "g1", approvedBy: "alice" });
    // The escalation is settled, so a repeat of the call id (the execute check) gets the same ALLOW.
    expect(await gate.checkToolCall({ toolName: "deploy", input: {}, callId: "c1", execute: true })).toMatchObject({
      type: "allow",
      code: "granted",
    });
    expect(await gate.checkToolCall({ toolName: "deploy", input: {}, callId: "c1", execute: true })).toMatchObject({
      type: "deny",
      code: "call_replayed",
    });
    expect(gate.decisions.some((x) => x.code === "granted" && x.grantId === "g1")).toBe(true);
    expect(await gate.pendingEscalations()).toHaveLength(1); // only the first, ungranted call
  });

  it("never widens past the policy: a denied target stays DENY", async () => {
    const { store, gate, grant } = setup();
    store.createGrant(grant({ target: "rm", tool: "rm" }));
    expect((await gate.checkToolCall({ toolName: "rm", input: {} })).type).toBe("deny");
  });

  it("does not match another agent, action or target", async () => {
    const { store, gate, grant } = setup();
    store.createGrant(grant({ agentId: "someone-else" }));
    store.createGrant(grant({ id: "g2", target: "deploy-prod" }));
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).type).toBe("escalate");
  });

  it("expires on its own, counts uses, and a revoked grant escalates again", async () => {
    const { store, gate, grant, advance } = setup();
    store.createGrant(grant({ usesLeft: 2 }));
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).code).toBe("granted");
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).code).toBe("granted");
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).type).toBe("escalate");
    store.createGrant(grant({ id: "g3" }));
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).code).toBe("granted");
    expect(store.revokeGrant("g3")?.id).toBe("g3");
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).type).toBe("escalate");
    store.createGrant(grant({ id: "g4" }));
    advance(3_600_001);
    expect(store.listGrants(Date.UTC(2026, 0, 1) + 3_600_001)).toHaveLength(0);
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).type).toBe("escalate");
  });

  it("limits still apply before grants (deny_after stays DENY)", async () => {
    const { store, gate, grant } = setup();
    store.createGrant(grant({ action: "file_read", target: "/a", tool: "" }));
    expect((await gate.check("file_read", "/a")).code).toBe("granted");
    expect((await gate.check("file_read", "/a")).code).toBe("granted");
    expect((await gate.check("file_read", "/a")).code).toBe("deny_after");
  });
});

describe("settleStoredEscalation", () => {
  it("exactly one settle wins; the loser sees the winner's decision; events fire", async () => {
    const { store, gate, now } = setup();
    const seen: string[] = [];
    store.onEscalationSettled((id) => seen.push(id));
    const d = await gate.checkToolCall({ toolName: "deploy", input: {} });
    const [a, b] = await Promise.all([
      settleStoredEscalation(store, d.escalationId!, { approved: true, approvedBy: "alice" }, { now: now() }),
      settleStoredEscalation(store, d.escalationId!, { approved: false, approvedBy: "bob" }, { now: now() }),
    ]);
    expect(a.ok).toBe(true);
    expect(b).toMatchObject({ ok: false, reason: "settled", decision: { approvedBy: "alice" } });
    await Promise.resolve();
    expect(seen).toEqual([d.escalationId]);
  });

  it("refuses an approver named like the agent without settling", async () => {
    const { store, gate } = setup();
    const d = await gate.checkToolCall({ toolName: "deploy", input: {} });
    expect(
      await settleStoredEscalation(store, d.escalationId!, { approved: true, approvedBy: " Deploy-Bot" }),
    ).toMatchObject({ ok: false, reason: "self_approval" });
    expect(store.getEscalation(d.escalationId!)?.status).toBe("pending");
    expect(await settleStoredEscalation(store, "nope", true)).toMatchObject({ ok: false, reason: "unknown" });
  });
});

describe("an escalation settled outside the gate while its handler waits", () => {
  it("returns and audits the settled decision (e.g. an approval server answered)", async () => {
    let now = Date.UTC(2026, 0, 1);
    const store = new MemoryStore();
    const gate = new GateKeeper({
      identity,
      policy,
      store,
      clock: () => now,
      approvalHandler: async (request) => {
        await settleStoredEscalation(store, request.escalationId, { approved: true, approvedBy: "alice" }, { now });
        return { approved: true, approvedBy: "alice" }; // relays the stored answer, as waitForApproval does
      },
    });
    const d = await gate.checkToolCall({ toolName: "deploy", input: {} });
    expect(d).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice" });
    expect(gate.decisions.map((x) => x.code)).toEqual(["escalate_target", "approved"]);
    now += 1;
  });
});
