import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import {
  askAboutPausedCall,
  recordFrameworkAnswer,
  recordFrameworkRejection,
  toolMayEscalate,
} from "./framework-approval.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { MemoryStore } from "../gate/memory-store.js";
import type { GateStore } from "../gate/store.js";

const identity = await AgentIdentity.create("framework-bot");
const rules: ActionRule[] = [
  { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
  { action: "file_read", allowed: true },
];
const makeGate = (store: GateStore = new MemoryStore()) =>
  new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }), store });
const deploy = (callId: string, env = "prod") => ({ toolName: "deploy", input: { env }, callId });

describe("toolMayEscalate", () => {
  it("is false only when the tool's action can never escalate", () => {
    const gate = makeGate();
    expect(toolMayEscalate(gate, "deploy")).toBe(true);
    expect(toolMayEscalate(gate, "search")).toBe(true); // tool_use escalates some targets: the gate must be asked
    expect(toolMayEscalate(gate, "read", { read: { action: "file_read" } })).toBe(false);
    expect(toolMayEscalate(gate, "rm", { rm: { action: "shell" } })).toBe(false); // denied: never escalates
    // A mapping the gate refuses is left to the gate; an inherited entry is not a mapping.
    expect(toolMayEscalate(gate, "odd", { odd: { action: 42 as never } })).toBe(true);
    const inherited = Object.create({ read: { action: "file_read" } });
    expect(toolMayEscalate(gate, "read", inherited)).toBe(true);
  });
});

describe("recordFrameworkAnswer", () => {
  it("records a framework approval with who approved; the next check of the call is an ALLOW", async () => {
    const gate = makeGate();
    const escalated = await gate.checkToolCall(deploy("c1"));
    const settled = await recordFrameworkAnswer(gate, escalated, {
      approved: true,
      approvedBy: () => "alice",
      reason: "approved with state.approve()",
      via: "state.approve()",
    });
    expect(settled).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice", callId: "c1" });
    expect(await gate.checkToolCall({ ...deploy("c1"), execute: true })).toMatchObject({ type: "allow" });
  });

  it("records a rejection with its reason, even when approvedBy fails", async () => {
    const gate = makeGate();
    const escalated = await gate.checkToolCall(deploy("c2"));
    const settled = await recordFrameworkAnswer(gate, escalated, {
      approved: false,
      approvedBy: () => {
        throw new Error("no session");
      },
      reason: "change freeze",
      via: "state.reject()",
    });
    expect(settled).toMatchObject({ type: "deny", code: "approval_denied", callId: "c2" });
    expect(settled.reason).toMatch(/change freeze/);
    expect(await gate.pendingEscalationFor("c2")).toBeUndefined();
  });

  it("fails closed: an approvedBy that throws, a self-approval, a store that fails, no escalation", async () => {
    const gate = makeGate();
    const answer = { approved: true, reason: "ok", via: "state.approve()" };
    const a = await gate.checkToolCall(deploy("c3"));
    const threw = await recordFrameworkAnswer(gate, a, {
      ...answer,
      approvedBy: () => Promise.reject(new Error("no session")),
    });
    expect(threw).toMatchObject({ type: "deny", code: "approval_error", callId: "c3" });
    expect(threw.reason).toBe("the approvedBy option failed: no session");
    expect(gate.decisions.at(-1)).toBe(threw);

    const b = await gate.checkToolCall(deploy("c4"));
    const self = await recordFrameworkAnswer(gate, b, { ...answer, approvedBy: () => identity.name });
    expect(self).toMatchObject({ type: "deny", code: "self_approval" });

    const store = new MemoryStore();
    const broken = makeGate(store);
    const c = await broken.checkToolCall(deploy("c5"));
    store.getEscalation = (() => Promise.reject(new Error("store down"))) as never;
    const down = await recordFrameworkAnswer(broken, c, answer);
    expect(down).toMatchObject({ type: "deny", code: "approval_error" });
    expect(down.reason).toMatch(/could not record the answer given with state\.approve\(\): /);

    const allowed = await gate.checkToolCall({ toolName: "search", input: {}, callId: "c6" });
    expect(await recordFrameworkAnswer(gate, allowed, answer)).toMatchObject({ type: "deny", code: "approval_error" });
  });
});

describe("askAboutPausedCall", () => {
  it("asks about an escalated call with what the gate recorded, and records the answer", async () => {
    const gate = makeGate();
    const asked: unknown[] = [];
    const { decision, request } = await askAboutPausedCall(gate, deploy("d1"), (r) => {
      asked.push(r);
      return { approved: true, approvedBy: "bob" };
    });
    expect(decision).toMatchObject({ type: "allow", code: "approved", approvedBy: "bob" });
    expect(asked).toEqual([request]);
    expect(request).toMatchObject({ callId: "d1", action: "tool_use", target: "deploy", args: { env: "prod" } });
  });

  it("a throwing approver is a rejection; a call that is not escalated asks nobody", async () => {
    const gate = makeGate();
    const rejected = await askAboutPausedCall(gate, deploy("d2"), () => {
      throw new Error("ui crashed");
    });
    expect(rejected.decision).toMatchObject({ type: "deny", code: "approval_denied" });
    expect(rejected.decision.reason).toMatch(/approval callback failed: ui crashed/);
    let asked = 0;
    const allowed = await askAboutPausedCall(
      gate,
      { toolName: "search", input: {}, callId: "d3" },
      () => (asked++, true),
    );
    expect([allowed.decision.type, allowed.request, allowed.handled, asked]).toEqual(["allow", undefined, false, 0]);
    // Approved before (e.g. by another process): the gate's answer, without asking again.
    const first = await askAboutPausedCall(gate, deploy("d5"), () => true);
    const again = await askAboutPausedCall(gate, deploy("d5"), () => (asked++, false));
    expect([first.handled, again.handled, again.decision.type, again.request, asked]).toEqual([
      true,
      true,
      "allow",
      undefined,
      0,
    ]);
    const denied = await askAboutPausedCall(gate, { toolName: "wipe", input: {}, callId: "d6" }, () => (asked++, true));
    expect([denied.decision.type, denied.handled, asked]).toEqual(["deny", true, 0]);
  });

  it("another approver settled first: the decision that won", async () => {
    const gate = makeGate();
    const { decision } = await askAboutPausedCall(gate, deploy("d4"), async (request) => {
      await gate.resolveEscalation(request.escalationId, { approved: false, approvedBy: "carol", reason: "no" });
      return { approved: true, approvedBy: "bob" };
    });
    expect(decision).toMatchObject({ type: "deny", code: "approval_denied" });
  });
});

describe("recordFrameworkAnswer on a pending request", () => {
  it("settles the escalation an ApprovalRequest names (e.g. found again by call id after a restart)", async () => {
    const gate = makeGate();
    await gate.checkToolCall(deploy("e1"));
    const pending = await gate.pendingEscalationFor("e1");
    const settled = await recordFrameworkAnswer(gate, pending!, {
      approved: false,
      reason: "not today",
      via: "state.reject()",
    });
    expect(settled).toMatchObject({ type: "deny", code: "approval_denied", callId: "e1" });
    expect(await gate.pendingEscalations()).toEqual([]);
  });
});

describe("recordFrameworkRejection", () => {
  it("settles the pending escalation of this tool's call, found by call id; other tools' and unknown ids are left alone", async () => {
    const gate = makeGate();
    await gate.checkToolCall(deploy("r1"));
    const answer = () => ({ reason: "no", via: "state.reject()" });
    // Another tool's name, or a mapping with another action: not ours.
    expect(await recordFrameworkRejection(gate, { toolName: "search", callId: "r1" }, answer)).toBeUndefined();
    const mapped = { deploy: { action: "file_read" as const } };
    expect(await recordFrameworkRejection(gate, { toolName: "deploy", callId: "r1", mapping: mapped }, answer)).toBe(
      undefined,
    );
    expect(await recordFrameworkRejection(gate, { toolName: "deploy", callId: "nope" }, answer)).toBeUndefined();
    expect(await gate.pendingEscalationFor("r1")).toBeDefined();

    const seen: unknown[] = [];
    const settled = await recordFrameworkRejection(gate, { toolName: "deploy", callId: "r1" }, (request) => {
      seen.push(request.args);
      return { reason: "change freeze", via: "state.reject()", approvedBy: () => "alice" };
    });
    expect(settled).toMatchObject({ type: "deny", code: "approval_denied", callId: "r1" });
    expect(seen).toEqual([{ env: "prod" }]);
    expect(await gate.pendingEscalationFor("r1")).toBeUndefined();
    // Already settled: nothing pending any more.
    expect(await recordFrameworkRejection(gate, { toolName: "deploy", callId: "r1" }, answer)).toBeUndefined();
  });
});
