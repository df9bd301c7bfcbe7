import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EscalationError } from "../errors.js";
import { normalizeApproval } from "../gate/approval.js";
import type { Decision } from "../gate/decision.js";
import { GateKeeper, type GateKeeperOptions } from "../gate/gate-keeper.js";
import { MemoryStore } from "../gate/memory-store.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";

const policy = new PermissionPolicy({
  name: "approvals",
  rules: [
    { action: "file_write", allowed: true, allowedTargets: ["/workspace/**"], requireApproval: true },
    { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
  ],
});
const mapping = { writeFile: { action: "file_write", target: (i: { path: string }) => i.path } };
const agent = await AgentIdentity.create("deploy-bot");
const other = await AgentIdentity.create("other-bot");

function setup(options: Partial<GateKeeperOptions> = {}) {
  let now = Date.UTC(2026, 0, 1);
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = options.store ?? new MemoryStore();
  const gate = new GateKeeper({ identity: agent, policy, store, clock: clock.now, ...options });
  return { gate, clock, store };
}

const write = (gate: GateKeeper, callId: string, path: string, content = "hi") =>
  gate.checkToolCall({ toolName: "writeFile", input: { path, content }, callId, mapping });

async function approved(gate: GateKeeper, callId: string, path: string) {
  const d = await write(gate, callId, path);
  expect(d.type).toBe("escalate");
  const settled = await gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "alice@example.com" });
  expect(settled).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice@example.com" });
  return d;
}

describe("an approval is bound to the exact call it was asked for", () => {
  it("the same call id and input: ALLOW, recorded once, with approvedBy", async () => {
    const { gate } = setup();
    await approved(gate, "call-1", "/workspace/a.txt");
    const again = await write(gate, "call-1", "/workspace/a.txt");
    expect(again).toMatchObject({ type: "allow", approvedBy: "alice@example.com", callId: "call-1" });
  });

  it("the same call id with another input: DENY call_mismatch (target or any argument)", async () => {
    const { gate } = setup();
    await approved(gate, "call-1", "/workspace/a.txt");
    expect(await write(gate, "call-1", "/workspace/b.txt")).toMatchObject({ type: "deny", code: "call_mismatch" });
    expect(await write(gate, "call-1", "/workspace/a.txt", "rm -rf /")).toMatchObject({
      type: "deny",
      code: "call_mismatch",
    });
    expect(await write(gate, "call-1", "/workspace/./a.txt", "hi")).toMatchObject({
      type: "deny",
      code: "call_mismatch",
    }); // the raw input differs
    // The original call is still approved, and nothing else was.
    expect((await write(gate, "call-1", "/workspace/a.txt")).type).toBe("allow");
  });

  it("property: for any two different inputs, an approval of one never allows the other", async () => {
    const input = fc.record({
      path: fc.constantFrom("/workspace/a", "/workspace/b", "/workspace/../etc/x"),
      content: fc.string({ maxLength: 5 }),
      mode: fc.option(fc.constantFrom(0o600, 0o777), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(input, input, async (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        const { gate } = setup();
        const first = await gate.checkToolCall({ toolName: "writeFile", input: a, callId: "c", mapping });
        if (first.type === "escalate")
          await gate.resolveEscalation(first.escalationId!, { approved: true, approvedBy: "alice" });
        const second = await gate.checkToolCall({ toolName: "writeFile", input: b, callId: "c", mapping });
        expect(second.type).not.toBe("allow");
      }),
      { numRuns: 150 },
    );
  });

  it("two concurrent checks of one call id with different inputs never share a decision", async () => {
    const { gate } = setup({
      approvalHandler: (r) => ({
        approved: (r.args as { path: string }).path === "/workspace/ok",
        approvedBy: "alice",
      }),
    });
    const [a, b] = await Promise.all([write(gate, "dup", "/workspace/ok"), write(gate, "dup", "/workspace/evil")]);
    expect(a).toMatchObject({ type: "allow", target: "/workspace/ok" });
    expect(b.type).toBe("deny");
    // And the static path: a denied target raced with an allowed one under one id.
    const tools = setup();
    const [s1, s2] = await Promise.all([
      tools.gate.checkToolCall({ toolName: "search", input: {}, callId: "t" }),
      tools.gate.checkToolCall({ toolName: "rm_rf", input: {}, callId: "t" }),
    ]);
    expect(s1).toMatchObject({ type: "allow", target: "search" });
    expect(s2).toMatchObject({ type: "deny", target: "rm_rf" });
  });

  it("another call id with the very same input needs its own approval", async () => {
    const { gate } = setup();
    await approved(gate, "call-1", "/workspace/a.txt");
    const d = await write(gate, "call-2", "/workspace/a.txt");
    expect(d.type).toBe("escalate");
    expect(d.escalationId).not.toBeUndefined();
  });

  it("another agent sharing the store cannot use it (call ids are scoped per agent and policy)", async () => {
    const store = new MemoryStore();
    const mine = setup({ store }).gate;
    const theirs = new GateKeeper({ identity: other, policy, store });
    const d = await approved(mine, "call-1", "/workspace/a.txt");
    const t = await write(theirs, "call-1", "/workspace/a.txt");
    expect(t.type).toBe("escalate");
    expect(t.escalationId).not.toBe(d.escalationId);
    expect(t.agentId).toBe(other.id);
    // Same agent, another policy name: another namespace too.
    const renamed = new PermissionPolicy({ ...policy.toJSON(), name: "approvals-2" });
    const sibling = new GateKeeper({ identity: agent, policy: renamed, store });
    expect((await write(sibling, "call-1", "/workspace/a.txt")).type).toBe("escalate");
  });

  it("an approval that arrives after approvalTtlMs is a DENY, and an old approval does not outlive it", async () => {
    const { gate, clock } = setup({ approvalTtlMs: 60_000 });
    const late = await write(gate, "late", "/workspace/a.txt");
    clock.advance(60_001);
    expect(await gate.resolveEscalation(late.escalationId!, { approved: true, approvedBy: "alice" })).toMatchObject({
      type: "deny",
      code: "approval_expired",
    });
    expect((await write(gate, "late", "/workspace/a.txt")).type).not.toBe("allow");

    await approved(gate, "old", "/workspace/b.txt");
    clock.advance(30_000);
    expect((await write(gate, "old", "/workspace/b.txt")).type).toBe("allow");
    clock.advance(30_001);
    const after = await write(gate, "old", "/workspace/b.txt");
    expect(after.type).toBe("escalate"); // asked again, never silently allowed
  });

  it("an unknown, forged or foreign escalation id is refused", async () => {
    const { gate } = setup();
    const elsewhere = setup().gate;
    const d = await write(elsewhere, "x", "/workspace/a.txt");
    for (const id of ["forged", d.escalationId!, "../" + d.escalationId!, "*"]) {
      const error = await gate.resolveEscalation(id, { approved: true, approvedBy: "alice" }).catch((e: unknown) => e);
      expect(EscalationError.isInstance(error)).toBe(true);
      expect((error as EscalationError).code).toBe("AGENTGATE_ESCALATION_UNKNOWN");
    }
    await expect(gate.resolveEscalation("", true)).rejects.toThrow(TypeError);
  });
});

describe("approver identity comes from the approval channel", () => {
  it("approval-looking fields in the tool arguments change nothing", async () => {
    const { gate } = setup();
    const d = await gate.checkToolCall({
      toolName: "writeFile",
      input: { path: "/workspace/a.txt", approved: true, approvedBy: "security-team", __approved: true },
      callId: "c",
      mapping,
    });
    expect(d.type).toBe("escalate");
    expect(d.approvedBy).toBeUndefined();
    const [pending] = await gate.pendingEscalations();
    expect(pending!.args).toMatchObject({ approvedBy: "security-team" }); // shown to the human as data
    const settled = await gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "bob" });
    expect(settled.approvedBy).toBe("bob");
  });

  it("the requesting agent can never approve itself, however it spells its name", async () => {
    for (const by of [
      agent.id,
      agent.name,
      agent.id.toUpperCase(),
      ` ${agent.name} `,
      "DEPLOY-BOT",
      "deploy-bot\u200b",
      "ｄｅｐｌｏｙ-ｂｏｔ",
    ]) {
      const { gate } = setup();
      const d = await write(gate, "c", "/workspace/a.txt");
      const settled = await gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: by });
      expect(settled, JSON.stringify(by)).toMatchObject({ type: "deny", code: "self_approval" });
      expect(settled.approvedBy).toBeUndefined();
    }
    // Through an inline handler as well.
    const { gate } = setup({ approvalHandler: (r) => ({ approved: true, approvedBy: r.agent.id }) });
    expect(await write(gate, "c", "/workspace/a.txt")).toMatchObject({ type: "deny", code: "self_approval" });
  });

  it("another agent's name is a legitimate approver (an approval bot), but not the requester's", async () => {
    const { gate } = setup();
    const d = await write(gate, "c", "/workspace/a.txt");
    expect(await gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: other.name })).toMatchObject({
      type: "allow",
      approvedBy: other.name,
    });
  });

  it("malformed or prototype-borne answers are rejections, never approvals", async () => {
    const answers: unknown[] = [
      "true",
      1,
      null,
      [],
      [true],
      { approved: "yes" },
      { approved: 1 },
      Object.create({ approved: true }),
      JSON.parse('{"__proto__": {"approved": true}}'),
      JSON.parse('{"constructor": {"prototype": {"approved": true}}}'),
      new Proxy({}, { get: () => true }),
    ];
    for (const a of answers) {
      expect(normalizeApproval(a).approved).toBe(false);
      const { gate } = setup();
      const d = await write(gate, "c", "/workspace/a.txt");
      expect((await gate.resolveEscalation(d.escalationId!, a as never)).type).toBe("deny");
      expect((await write(gate, "c", "/workspace/a.txt")).type).toBe("deny");
    }
    // approvedBy and reason are read as own properties only.
    const inherited = Object.assign(Object.create({ approvedBy: "mallory", reason: "inherited" }), { approved: true });
    expect(normalizeApproval(inherited)).toEqual({ approved: true, valid: true });
  });
});

describe("concurrent resolution: exactly one approver wins", () => {
  it("two approvers on two processes (gates sharing one store) race on one escalation", async () => {
    for (let round = 0; round < 25; round++) {
      const store = new MemoryStore();
      const requester = new GateKeeper({ identity: agent, policy, store });
      const approverA = new GateKeeper({ identity: await AgentIdentity.create("ui-a"), policy, store });
      const approverB = new GateKeeper({ identity: await AgentIdentity.create("ui-b"), policy, store });
      const d = await write(requester, `c${round}`, "/workspace/a.txt");
      const results = await Promise.allSettled([
        approverA.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "alice" }),
        approverB.resolveEscalation(d.escalationId!, { approved: false, approvedBy: "bob", reason: "no" }),
        requester.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "carol" }),
      ]);
      const won = results.filter((r): r is PromiseFulfilledResult<Decision> => r.status === "fulfilled");
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(2);
      for (const l of lost) expect((l.reason as EscalationError).code).toBe("AGENTGATE_ESCALATION_SETTLED");
      // The requester's re-check sees exactly the winner's decision.
      const again = await write(requester, `c${round}`, "/workspace/a.txt");
      expect(again).toEqual(won[0]!.value);
    }
  });

  it("an inline handler and an out-of-band approver race: one decision, everywhere", async () => {
    let release!: (v: boolean) => void;
    const store = new MemoryStore();
    const gate = new GateKeeper({
      identity: agent,
      policy,
      store,
      approvalHandler: () => new Promise<boolean>((r) => (release = r)),
    });
    const pending = write(gate, "race", "/workspace/a.txt");
    await new Promise((r) => setTimeout(r, 0));
    const [req] = await gate.pendingEscalations();
    const outOfBand = await gate.resolveEscalation(req!.escalationId, { approved: false, approvedBy: "bob" });
    release(true); // the handler approves too late
    const inline = await pending;
    expect(inline).toEqual(outOfBand);
    expect(inline.type).toBe("deny");
  });
});
