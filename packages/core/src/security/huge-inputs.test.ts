import { describe, expect, it } from "vitest";
import { canonicalJson } from "../gate/fingerprint.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { MemoryStore } from "../gate/memory-store.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { MAX_TARGET_LENGTH } from "../policy/target.js";

const MB = 1 << 20;
/** A fresh, flat 1 MB string (not a rope sharing one buffer), different for each `i`. */
const megabyte = (prefix: string, i = 0) => `${prefix}${i}:`.padEnd(MB, "abcdefghijklmnopqrstuvwxyz/");

const policy = new PermissionPolicy({
  name: "huge",
  rules: [
    { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"] },
    { action: "network", allowed: true, allowedTargets: ["https://api.example.com/**"] },
    { action: "tool_use", allowed: true, allowedTargets: ["search", "*a*b*c*d*e"], escalateTargets: ["deploy"] },
    { action: "llm_call", allowed: true, maxPerMinute: 1000 },
    { action: "shell", allowed: false },
  ],
});
const identity = await AgentIdentity.create("huge-bot");
const newGate = (extra: Partial<ConstructorParameters<typeof GateKeeper>[0]> = {}) =>
  new GateKeeper({ identity, policy, ...extra });

/** Every decision the gate keeps stays small, whatever it was fed. */
function expectSmall(gate: GateKeeper, limit = 40_000) {
  for (const d of gate.decisions) expect(JSON.stringify(d).length).toBeLessThan(limit);
}

describe("1 MB targets: DENY, never a crash, and nothing megabyte-sized is kept", () => {
  it("is refused before any matching, for every kind of target", async () => {
    const gate = newGate();
    for (const [action, prefix] of [
      ["file_read", "/workspace/"],
      ["network", "https://api.example.com/"],
      ["tool_use", "a"],
    ] as const) {
      const d = await gate.check(action, megabyte(prefix));
      expect(d).toMatchObject({ type: "deny", code: "invalid_target" });
      expect(d.reason).toMatch(new RegExp(`longer than ${MAX_TARGET_LENGTH}`));
      expect(policy.check(action, megabyte(prefix))).toBe("deny");
    }
    expectSmall(gate);
  });

  it("a target just under the limit is matched in linear time even by a many-star pattern", async () => {
    const gate = newGate();
    const t = "a".repeat(MAX_TARGET_LENGTH); // against "*a*b*c*d*e": minutes with a backtracking regex
    expect((await gate.check("tool_use", t)).code).toBe("target_not_allowed");
    expect((await gate.check("tool_use", `${"a".repeat(MAX_TARGET_LENGTH - 5)}bcdee`)).type).toBe("allow");
  });

  it("decisions for actions without a rule or not allowed clip the raw target (it is never normalised)", async () => {
    const gate = newGate({ auditLimit: 50 });
    for (let i = 0; i < 50; i++) {
      const d = await gate.check(i % 2 ? "shell" : "no_such_action", megabyte("/", i));
      expect(d.type).toBe("deny");
      expect(d.target!.length).toBeLessThan(400);
      expect(d.target).toMatch(/\[1048576 characters, clipped\]$/);
    }
    expectSmall(gate);
  });

  it("an unmapped tool with a 1 MB name is a DENY with a clipped target", async () => {
    const gate = newGate();
    const d = await gate.checkToolCall({ toolName: megabyte("tool"), input: {} });
    expect(d).toMatchObject({ type: "deny", code: "invalid_target" });
    const noRule = new GateKeeper({ identity, policy: new PermissionPolicy({ name: "empty", rules: [] }) });
    const e = await noRule.checkToolCall({ toolName: megabyte("tool"), input: {} });
    expect(e).toMatchObject({ type: "deny", code: "no_rule" });
    expectSmall(noRule);
  });

  it("an error message quoting a 1 MB input is clipped in the reason", async () => {
    const gate = newGate();
    const d = await gate.checkToolCall({
      toolName: "readFile",
      input: { path: megabyte("/workspace/") },
      mapping: {
        readFile: {
          action: "file_read",
          target: (i: { path: string }) => {
            throw new Error(`bad path ${i.path}`);
          },
        },
      },
    });
    expect(d).toMatchObject({ type: "deny", code: "invalid_target" });
    expect(d.reason.length).toBeLessThan(1000);
    expect(d.reason).toMatch(/clipped/);
  });
});

describe("1 MB call ids and arguments", () => {
  it("a 1 MB call id is refused: TypeError from check, a DENY from checkToolCall (it may come from a browser)", async () => {
    const gate = newGate();
    await expect(gate.check("tool_use", { target: "search", callId: megabyte("c") })).rejects.toThrow(
      /callId must be at most 1024/,
    );
    const d = await gate.checkToolCall({ toolName: "search", input: {}, callId: megabyte("c") });
    expect(d).toMatchObject({ type: "deny", code: "invalid_input" });
    expect(d.callId).toBeUndefined();
    expect((await gate.checkToolCall({ toolName: "search", input: {}, callId: "c".repeat(1024) })).type).toBe("allow");
    expectSmall(gate);
  });

  it("1 MB arguments are fingerprinted by hash, bound to the call, and shown to the approver", async () => {
    const store = new MemoryStore();
    const gate = newGate({ store });
    const input = { query: megabyte("q"), nested: { more: megabyte("m") } };
    const d = await gate.checkToolCall({ toolName: "deploy", input, callId: "big" });
    expect(d.type).toBe("escalate");
    const [request] = await gate.pendingEscalations();
    expect((request!.args as typeof input).nested.more).toBe(input.nested.more);
    await gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "alice" });
    expect((await gate.checkToolCall({ toolName: "deploy", input: structuredClone(input), callId: "big" })).type).toBe(
      "allow",
    );
    // One character changed, a megabyte in: another input.
    const edited = { ...input, query: `${input.query.slice(0, -1)}!` };
    expect(await gate.checkToolCall({ toolName: "deploy", input: edited, callId: "big" })).toMatchObject({
      type: "deny",
      code: "call_mismatch",
    });
    expectSmall(gate);
  });

  it("arguments nested 100 000 levels deep are a DENY, not a stack overflow", async () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const gate = newGate();
    const d = await gate.checkToolCall({ toolName: "deploy", input: deep, callId: "deep" });
    expect(d).toMatchObject({ type: "deny", code: "internal_error" });
    expect(d.reason).toMatch(/nested more than 32 levels/);
    // A cycle as well.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect((await gate.checkToolCall({ toolName: "deploy", input: cyclic, callId: "cycle" })).type).toBe("deny");
  });

  it("arguments that would print as {} (Map, Set, Error...) cannot stand in for each other", async () => {
    expect(() => canonicalJson({ files: new Map([["/etc/passwd", "x"]]) })).toThrow(/Map/);
    expect(() => canonicalJson(new Set([1]))).toThrow(/Set/);
    expect(() => canonicalJson(/x/)).toThrow(/RegExp/);
    expect(() => canonicalJson(new Error("x"))).toThrow(/Error/);
    expect(canonicalJson(new Uint8Array([1, 2]))).toBe('{"0":1,"1":2}');
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    const gate = newGate();
    const benign = await gate.checkToolCall({
      toolName: "deploy",
      input: { env: new Map([["target", "staging"]]) },
      callId: "m",
    });
    expect(benign).toMatchObject({ type: "deny", code: "internal_error" });
  });

  it("many large checks keep the audit bounded (auditLimit) and every decision small", async () => {
    const gate = newGate({ auditLimit: 100 });
    for (let i = 0; i < 300; i++) {
      await gate.check("llm_call", {
        target: i % 3 ? undefined : megabyte("model", i),
        args: { prompt: megabyte("p", i) },
      });
    }
    expect(gate.decisions).toHaveLength(100);
    expectSmall(gate);
  });
});
