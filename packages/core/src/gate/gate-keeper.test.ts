import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { Action, DecisionType } from "../action.js";
import { EscalationError, PermissionDeniedError } from "../errors.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import type { Decision } from "./decision.js";
import { GateKeeper, type GateKeeperOptions } from "./gate-keeper.js";
import { MemoryStore } from "./memory-store.js";
import type { GateStore } from "./store.js";

const identity = await AgentIdentity.create("test-bot");

function gateWith(rules: ActionRule[], options: Partial<GateKeeperOptions> = {}) {
  let now = Date.UTC(2026, 0, 1);
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const gate = new GateKeeper({
    identity,
    policy: new PermissionPolicy({ name: "p", rules }),
    clock: clock.now,
    ...options,
  });
  return { gate, clock };
}

describe("GateKeeper basics", () => {
  it("runs the README quick start", async () => {
    const agent = await AgentIdentity.create("research-bot", { capabilities: ["search", "summarize"] });
    const policy = new PermissionPolicy({
      name: "research-policy",
      rules: [
        { action: Action.TOOL_USE, allowed: true, allowedTargets: ["search"] },
        { action: Action.LLM_CALL, allowed: true, maxPerMinute: 10 },
        { action: Action.SHELL, allowed: false },
      ],
    });
    const gate = new GateKeeper({ identity: agent, policy });
    expect((await gate.check("tool_use", { target: "search" })).type).toBe(DecisionType.ALLOW);
    expect((await gate.check("shell")).type).toBe("deny");
  });

  it("returns frozen, JSON-serialisable decisions with every field", async () => {
    const { gate } = gateWith([{ action: "tool_use", allowed: true }]);
    const d = await gate.check("tool_use", { target: "search", callId: "c1" });
    expect(Object.isFrozen(d)).toBe(true);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    expect(d).toMatchObject({
      type: "allow",
      code: "allowed",
      agentId: identity.id,
      agentName: "test-bot",
      action: "tool_use",
      target: "search",
      callId: "c1",
      policy: "p",
      timestamp: "2026-01-01T00:00:00.000Z",
    });
    expect(d.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.reason).toContain('rule "tool_use"');
  });

  it("denies actions without a rule, and says so", async () => {
    const { gate } = gateWith([]);
    const d = await gate.check("data_access", "users");
    expect(d).toMatchObject({ type: "deny", code: "no_rule" });
    expect(d.reason).toMatch(/no rule for action "data_access"/);
  });

  it("rejects invalid arguments with TypeError, never ALLOW", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true }]);
    await expect(gate.check("")).rejects.toThrow(TypeError);
    await expect(gate.check(undefined as never)).rejects.toThrow(TypeError);
    await expect(gate.check("a", 5 as never)).rejects.toThrow(TypeError);
    await expect(gate.check("a", { target: 5 as never })).rejects.toThrow(TypeError);
    await expect(gate.check("a", null as never)).rejects.toThrow(TypeError);
    await expect(gate.check("a", { callId: 3 as never })).rejects.toThrow(TypeError);
    expect(gate.decisions).toHaveLength(0);
  });

  it("isAllowed and require", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true }]);
    expect(await gate.isAllowed("a")).toBe(true);
    expect(await gate.isAllowed("b")).toBe(false);
    expect((await gate.require("a")).type).toBe("allow");
    const error = await gate.require("b").catch((e: unknown) => e);
    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as PermissionDeniedError).code).toBe("AGENTGATE_PERMISSION_DENIED");
    expect((error as PermissionDeniedError).decision.type).toBe("deny");
    expect(PermissionDeniedError.isInstance(new Error("x"))).toBe(false);
  });
});

describe("order of evaluation", () => {
  it("applies deny lists, allow lists, limits and escalation in order", async () => {
    const { gate } = gateWith([
      {
        action: "file_read",
        allowed: true,
        allowedTargets: ["/w/**"],
        deniedTargets: ["/w/secret/**"],
        escalateTargets: ["/w/hr/**"],
      },
      { action: "shell", allowed: false },
    ]);
    expect((await gate.check("shell", "ls")).code).toBe("not_allowed");
    expect((await gate.check("file_read", "/w/secret/k")).code).toBe("denied_target");
    expect((await gate.check("file_read")).code).toBe("target_required");
    expect((await gate.check("file_read", "/etc/passwd")).code).toBe("target_not_allowed");
    expect((await gate.check("file_read", "/w/../etc/passwd")).target).toBe("/etc/passwd");
    expect((await gate.check("file_read", "/w/hr/x")).type).toBe("escalate");
    expect((await gate.check("file_read", "/w/a")).type).toBe("allow");
  });

  it("denyAfter beats maxPerMinute, which beats escalation", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true, requireApproval: true, denyAfter: 1, maxPerMinute: 5 }], {
      approvalHandler: () => true,
    });
    expect((await gate.check("a")).type).toBe("allow"); // approved: counted
    expect((await gate.check("a")).code).toBe("deny_after");
  });
});

describe("limits", () => {
  it("maxPerMinute is a sliding 60 s window with retryAfterMs", async () => {
    const { gate, clock } = gateWith([{ action: "llm_call", allowed: true, maxPerMinute: 2 }]);
    expect((await gate.check("llm_call")).type).toBe("allow");
    clock.advance(30_000);
    expect((await gate.check("llm_call")).type).toBe("allow");
    clock.advance(10_000);
    const limited = await gate.check("llm_call");
    expect(limited).toMatchObject({ type: "deny", code: "rate_limit", retryAfterMs: 20_000 });
    expect(limited.reason).toMatch(/max_per_minute limit of 2/);
    clock.advance(20_000); // the first use leaves the window
    expect((await gate.check("llm_call")).type).toBe("allow");
    expect((await gate.check("llm_call")).type).toBe("deny");
  });

  it("100 concurrent checks against maxPerMinute 10 give exactly 10 ALLOW", async () => {
    const { gate } = gateWith([{ action: "llm_call", allowed: true, maxPerMinute: 10 }]);
    const results = await Promise.all(Array.from({ length: 100 }, () => gate.check("llm_call")));
    expect(results.filter((d) => d.type === "allow")).toHaveLength(10);
  });

  it("escalateAfter and denyAfter count allowed uses only", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true, escalateAfter: 2, denyAfter: 3, allowedTargets: ["x"] }]);
    expect((await gate.check("a", "x")).type).toBe("allow");
    expect((await gate.check("a", "nope")).type).toBe("deny"); // not counted
    expect((await gate.check("a", "x")).type).toBe("allow");
    const esc = await gate.check("a", "x");
    expect(esc).toMatchObject({ type: "escalate", code: "escalate_after" });
    // A rejected escalation gives its reserved use back.
    await gate.resolveEscalation(esc.escalationId!, { approved: false });
    const esc2 = await gate.check("a", "x");
    expect(esc2.type).toBe("escalate");
    await gate.resolveEscalation(esc2.escalationId!, { approved: true, approvedBy: "ops" });
    expect((await gate.check("a", "x")).code).toBe("deny_after");
  });

  it("counts per agent and action", async () => {
    const policy = new PermissionPolicy({
      name: "p",
      rules: [
        { action: "a", allowed: true, denyAfter: 1 },
        { action: "b", allowed: true, denyAfter: 1 },
      ],
    });
    const store = new MemoryStore();
    const g1 = new GateKeeper({ identity, policy, store });
    const g2 = new GateKeeper({ identity: await AgentIdentity.create("other"), policy, store });
    expect((await g1.check("a")).type).toBe("allow");
    expect((await g1.check("b")).type).toBe("allow");
    expect((await g2.check("a")).type).toBe("allow");
    expect((await g1.check("a")).type).toBe("deny");
  });
});

describe("escalation", () => {
  const rules: ActionRule[] = [{ action: "file_write", allowed: true, requireApproval: true, maxPerMinute: 100 }];

  it("awaits the approval handler and records approvedBy", async () => {
    const handler = vi.fn(async (_request: unknown) => ({ approved: true, approvedBy: "alice" }));
    const { gate } = gateWith(rules, { approvalHandler: handler });
    const d = await gate.check("file_write", { target: "/w/a", args: { content: "hi" }, callId: "c1" });
    expect(d).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice", callId: "c1" });
    const request = handler.mock.calls[0]![0];
    expect(request).toEqual({
      escalationId: d.escalationId,
      callId: "c1",
      agent: { id: identity.id, name: "test-bot" },
      action: "file_write",
      target: "/w/a",
      args: { content: "hi" },
      reason: expect.stringContaining("requires human approval"),
    });
    expect(JSON.parse(JSON.stringify(request))).toEqual(request);
    expect(gate.decisions.map((x) => x.type)).toEqual(["escalate", "allow"]);
  });

  it.each([
    ["false", () => false, "approval_denied"],
    ["a rejection object", () => ({ approved: false, reason: "not today" }), "approval_denied"],
    [
      "a throw",
      () => {
        throw new Error("boom");
      },
      "approval_error",
    ],
    ["a rejected promise", () => Promise.reject(new Error("down")), "approval_error"],
    ["a string", () => "yes" as never, "approval_error"],
    ["undefined", () => undefined as never, "approval_error"],
    ["{ approved: 'true' }", () => ({ approved: "true" }) as never, "approval_error"],
  ])("turns %s into DENY", async (_name, handler, code) => {
    const { gate } = gateWith(rules, { approvalHandler: handler as never });
    const d = await gate.check("file_write", "/w/a");
    expect(d).toMatchObject({ type: "deny", code });
    expect(await gate.pendingEscalations()).toEqual([]);
  });

  it("times out a slow handler: DENY, no hang", async () => {
    const { gate } = gateWith(rules, { approvalHandler: () => new Promise(() => {}), approvalTimeoutMs: 20 });
    const d = await gate.check("file_write", "/w/a");
    expect(d).toMatchObject({ type: "deny", code: "approval_timeout" });
    expect(d.reason).toMatch(/20 ms/);
  });

  it("refuses self-approval", async () => {
    const { gate } = gateWith(rules, { approvalHandler: () => ({ approved: true, approvedBy: identity.id }) });
    expect((await gate.check("file_write", "/w/a")).code).toBe("self_approval");
  });

  it("without a handler, stays ESCALATE until resolveEscalation", async () => {
    const { gate } = gateWith(rules);
    const d = await gate.check("file_write", { target: "/w/a", callId: "t1" });
    expect(d).toMatchObject({ type: "escalate", code: "require_approval", escalationId: expect.any(String) });
    expect(await gate.pendingEscalations()).toEqual([
      expect.objectContaining({ escalationId: d.escalationId, callId: "t1" }),
    ]);
    const settled = await gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "bob" });
    expect(settled).toMatchObject({ type: "allow", approvedBy: "bob", escalationId: d.escalationId, callId: "t1" });
    expect(await gate.pendingEscalations()).toEqual([]);
    // The paused call resumes with the settled decision.
    expect(await gate.check("file_write", { target: "/w/a", callId: "t1" })).toEqual(settled);
    await expect(gate.resolveEscalation(d.escalationId!, { approved: true })).rejects.toSatisfy(
      EscalationError.isInstance,
    );
    await expect(gate.resolveEscalation("nope", { approved: true })).rejects.toThrow(/unknown escalation/);
  });

  it("lets exactly one of two concurrent approvers win", async () => {
    const { gate } = gateWith(rules);
    const d = await gate.check("file_write", "/w/a");
    const results = await Promise.allSettled([
      gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "a" }),
      gate.resolveEscalation(d.escalationId!, { approved: false, approvedBy: "b" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("expires approvals after approvalTtlMs", async () => {
    const { gate, clock } = gateWith(rules, { approvalTtlMs: 1000 });
    const d = await gate.check("file_write", "/w/a");
    clock.advance(1001);
    expect(await gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "late" })).toMatchObject({
      type: "deny",
      code: "approval_expired",
    });
  });

  it("treats malformed resolutions as not approved", async () => {
    const { gate } = gateWith(rules);
    const d = await gate.check("file_write", "/w/a");
    expect((await gate.resolveEscalation(d.escalationId!, { approved: "yes" } as never)).type).toBe("deny");
  });
});

describe("idempotency per callId", () => {
  it("a second check with the same callId returns the same decision and counts nothing", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true, denyAfter: 1 }]);
    const first = await gate.check("a", { callId: "x" });
    const again = await gate.check("a", { callId: "x" });
    expect(again).toEqual(first);
    expect((await gate.check("a", { callId: "y" })).code).toBe("deny_after");
  });

  it("concurrent checks of one callId share one decision", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true, denyAfter: 5 }]);
    const all = await Promise.all(Array.from({ length: 10 }, () => gate.check("a", { callId: "same" })));
    expect(new Set(all.map((d) => d.id)).size).toBe(1);
    expect((await gate.check("a", { callId: "other" })).type).toBe("allow");
  });

  it("concurrent checks of several callIds, in any order, each share their own decision", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom("x", "y", "z"), { minLength: 1, maxLength: 12 }), async (ids) => {
        const { gate } = gateWith([{ action: "a", allowed: true, denyAfter: 100 }]);
        const all = await Promise.all(ids.map((callId) => gate.check("a", { callId })));
        const byCall = new Map<string, Set<string>>();
        for (const d of all) byCall.set(d.callId!, (byCall.get(d.callId!) ?? new Set()).add(d.id));
        for (const decisionIds of byCall.values()) expect(decisionIds.size).toBe(1);
        expect(gate.decisions.length).toBe(new Set(ids).size);
        // Once settled, a repeat gets the recorded decision and a new id is decided on its own.
        expect((await gate.check("a", { callId: ids[0]! })).id).toBe(all[0]!.id);
        expect(all.map((d) => d.id)).not.toContain((await gate.check("a", { callId: "new" })).id);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses the same callId with another input", async () => {
    const { gate } = gateWith([{ action: "w", allowed: true, requireApproval: true }]);
    const d = await gate.check("w", { target: "a", args: { x: 1 }, callId: "c" });
    await gate.resolveEscalation(d.escalationId!, { approved: true, approvedBy: "h" });
    expect((await gate.check("w", { target: "a", args: { x: 1 }, callId: "c" })).type).toBe("allow");
    expect(await gate.check("w", { target: "a", args: { x: 2 }, callId: "c" })).toMatchObject({
      type: "deny",
      code: "call_mismatch",
    });
    expect((await gate.check("w", { target: "b", args: { x: 1 }, callId: "c" })).code).toBe("call_mismatch");
  });
});

describe("checkToolCall", () => {
  const rules: ActionRule[] = [
    { action: "tool_use", allowed: true, allowedTargets: ["search"] },
    { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"] },
  ];

  it("maps tools to actions and targets", async () => {
    const { gate } = gateWith(rules);
    const mapping = { readFile: { action: "file_read", target: (i: { path: string }) => i.path } };
    expect((await gate.checkToolCall({ toolName: "search", input: { q: "x" } })).type).toBe("allow");
    expect((await gate.checkToolCall({ toolName: "shell", input: {} })).type).toBe("deny");
    expect(await gate.checkToolCall({ toolName: "readFile", input: { path: "/workspace/a" }, mapping })).toMatchObject({
      type: "allow",
      action: "file_read",
      target: "/workspace/a",
    });
    expect((await gate.checkToolCall({ toolName: "readFile", input: { path: "/etc/passwd" }, mapping })).type).toBe(
      "deny",
    );
  });

  it("a target function that throws or returns a non-string is a DENY", async () => {
    const { gate } = gateWith(rules);
    const throws = await gate.checkToolCall({
      toolName: "readFile",
      input: {},
      mapping: {
        readFile: {
          action: "file_read",
          target: () => {
            throw new Error("no path");
          },
        },
      },
    });
    expect(throws).toMatchObject({ type: "deny", code: "invalid_target" });
    expect(throws.reason).toMatch(/threw: no path/);
    const nonString = await gate.checkToolCall({
      toolName: "readFile",
      input: {},
      mapping: { readFile: { action: "file_read", target: () => 42 as never } },
    });
    expect(nonString.reason).toMatch(/returned number/);
  });

  it("never rejects: a malformed call, a hostile mapping or an internal failure is an audited DENY", async () => {
    const { gate } = gateWith(rules);
    const cases: [unknown, RegExp][] = [
      [{ toolName: "", input: {} }, /no tool name/],
      [{ input: {} }, /no tool name/],
      [null, /must be an object/],
      ["search", /must be an object/],
      [{ toolName: "search", input: {}, callId: 42 }, /call id must be a non-empty string, not a number/],
      [{ toolName: "search", input: {}, callId: "" }, /call id must be a non-empty string, not an empty string/],
    ];
    for (const [call, reason] of cases) {
      const d = await gate.checkToolCall(call as never);
      expect(d).toMatchObject({ type: "deny", code: "invalid_input" });
      expect(d.reason).toMatch(reason);
      expect(gate.decisions.at(-1)).toBe(d);
    }
    // A mapping table whose getter throws, and a context that cannot be spread.
    const hostile = {
      toolName: "readFile",
      input: {},
      get mapping(): never {
        throw new Error("boom");
      },
    };
    Object.defineProperty(hostile, "mapping", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const crashed = await gate.checkToolCall(hostile as never);
    expect(crashed).toMatchObject({ type: "deny", code: "internal_error", target: "readFile" });
    expect(crashed.reason).toMatch(/the gate failed while checking tool "readFile": boom/);
    expect(gate.decisions.at(-1)).toBe(crashed);
  });

  it("an action the counter key cannot encode is a DENY that says so", async () => {
    const { gate } = gateWith([{ action: "tool_\ud800", allowed: true, maxPerMinute: 5 }]);
    const d = await gate.checkToolCall({ toolName: "x", input: {}, mapping: { x: { action: "tool_\ud800" } } });
    expect(d).toMatchObject({ type: "deny", code: "internal_error" });
    expect(d.reason).toMatch(/cannot build the counter key for action/);
    expect(d.reason).not.toMatch(/fingerprint/);
  });
});

describe("audit", () => {
  it("keeps decisions oldest first, bounded by auditLimit", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true }], { auditLimit: 3 });
    for (const t of ["1", "2", "3", "4", "5"]) await gate.check("a", t);
    expect(gate.decisions.map((d) => d.target)).toEqual(["3", "4", "5"]);
  });

  it("a failing sink never loses the decision nor crashes the agent", async () => {
    const onAuditError = vi.fn();
    const written: Decision[] = [];
    const { gate } = gateWith([{ action: "a", allowed: true }], {
      onAuditError,
      auditSinks: [
        {
          write: () => {
            throw new Error("disk full");
          },
        },
        {
          write: async () => {
            throw new Error("network");
          },
        },
        {
          write: (d) => {
            written.push(d);
          },
        },
      ],
    });
    const d = await gate.check("a", { args: { k: 1 } });
    await new Promise((r) => setTimeout(r, 0));
    expect(gate.decisions).toEqual([d]);
    expect(written).toEqual([d]);
    expect(onAuditError).toHaveBeenCalledTimes(2);
    expect(onAuditError.mock.calls.map((c) => (c[0] as Error).message).sort()).toEqual(["disk full", "network"]);
  });

  it("a sink that returns one promise per batch: one handler per batch, and every decision of a failed batch reaches onAuditError", async () => {
    const reported: string[] = [];
    let handlers = 0;
    let fail!: (e: Error) => void;
    let batch = new Promise<void>((_, rej) => {
      fail = rej;
    });
    // Counts the handlers the gate attaches to each batch promise.
    const counted = (p: Promise<void>) =>
      Object.assign(p, {
        then: ((a, b) => {
          handlers++;
          return Promise.prototype.then.call(p, a, b);
        }) as Promise<void>["then"],
      });
    counted(batch);
    const { gate } = gateWith([{ action: "a", allowed: true }], {
      onAuditError: (e, d) => reported.push(`${(e as Error).message} ${d.id}`),
      auditSinks: [{ write: () => batch }],
    });
    const first = [await gate.check("a"), await gate.check("a"), gate.check("b")];
    const ids1 = (await Promise.all(first)).map((d) => d.id);
    expect(handlers).toBe(1);
    fail(new Error("batch 1 lost"));
    await new Promise((r) => setTimeout(r, 0));
    expect(reported).toEqual(ids1.map((id) => `batch 1 lost ${id}`));
    // The same, already rejected promise handed out again (a run of drops): each decision is still reported.
    const again = await gate.check("a");
    await new Promise((r) => setTimeout(r, 0));
    expect(reported.at(-1)).toBe(`batch 1 lost ${again.id}`);
    expect(handlers).toBe(2);
    // A new batch that succeeds: nothing reported, one more handler.
    let ok!: () => void;
    batch = counted(
      new Promise<void>((res) => {
        ok = res;
      }),
    );
    await gate.check("a");
    await gate.check("a");
    ok();
    await new Promise((r) => setTimeout(r, 0));
    expect(reported).toHaveLength(4);
    expect(handlers).toBe(3);
  });

  it("passes args and context to sinks, and observers see every decision", async () => {
    const events: unknown[] = [];
    const { gate } = gateWith([{ action: "tool_use", allowed: true }], {
      auditSinks: [
        {
          write: (_d, e) => {
            events.push(e);
          },
        },
      ],
    });
    const seen: string[] = [];
    const stop = gate.observe((d) => seen.push(d.type));
    await gate.checkToolCall({ toolName: "t", input: { q: 1 } });
    stop();
    await gate.check("nope");
    expect(events[0]).toEqual({ args: { q: 1 }, context: { toolName: "t" } });
    expect(seen).toEqual(["allow"]);
  });
});

describe("fail closed", () => {
  const broken = (what: string): GateStore => ({
    consume: () => {
      throw new Error(`${what} down`);
    },
    claimCall: () => {
      throw new Error(`${what} down`);
    },
    createEscalation: () => Promise.reject(new Error(`${what} down`)),
    getEscalation: () => undefined,
    settleEscalation: () => ({ ok: false, reason: "unknown" }),
    listEscalations: () => [],
  });

  it("a store error is a DENY that says the store is unavailable", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true, maxPerMinute: 5 }], { store: broken("redis") });
    const d = await gate.check("a");
    expect(d).toMatchObject({ type: "deny", code: "store_unavailable" });
    expect(d.reason).toMatch(/state store unavailable.*redis down/);
  });

  it("an escalation that cannot be recorded is a DENY", async () => {
    const store = new MemoryStore();
    store.createEscalation = () => {
      throw new Error("full");
    };
    const { gate } = gateWith([{ action: "a", allowed: true, requireApproval: true }], { store });
    expect((await gate.check("a")).code).toBe("store_unavailable");
  });

  it("arguments that cannot be fingerprinted are a DENY", async () => {
    const { gate } = gateWith([{ action: "a", allowed: true, maxPerMinute: 5 }]);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect((await gate.check("a", { callId: "c", args: cyclic })).code).toBe("internal_error");
    expect((await gate.check("a", { callId: "d", args: { n: 10n } })).code).toBe("internal_error");
  });
});

describe("repeated call ids on the static path", () => {
  it("returns the same decision and audits it once", async () => {
    const { gate } = gateWith([{ action: "tool_use", allowed: true, allowedTargets: ["search"] }]);
    const a = await gate.checkToolCall({ toolName: "search", input: { q: 1 }, callId: "k" });
    const b = await gate.checkToolCall({ toolName: "search", input: { q: 1 }, callId: "k" });
    const d1 = await gate.checkToolCall({ toolName: "shell", input: {}, callId: "k2" });
    const d2 = await gate.checkToolCall({ toolName: "shell", input: {}, callId: "k2" });
    expect(b).toBe(a);
    expect(d2).toBe(d1);
    expect(gate.decisions).toHaveLength(2);
    // Another target under the same call id is decided afresh, never reused.
    expect((await gate.checkToolCall({ toolName: "shell", input: {}, callId: "k" })).type).toBe("deny");
  });

  it("records adapter-reported input errors as DENY", async () => {
    const { gate } = gateWith([{ action: "tool_use", allowed: true }]);
    const d = await gate.checkToolCall({
      toolName: "search",
      input: "{bad json",
      callId: "z",
      inputError: "arguments are not valid JSON",
    });
    expect(d).toMatchObject({ type: "deny", code: "invalid_input", callId: "z", target: "search" });
    expect(d.reason).toContain("arguments are not valid JSON");
    expect(gate.decisions).toEqual([d]);
  });
});

describe("replayed calls (execute: true)", () => {
  it("an approved call runs once; a replay of the same call id is refused", async () => {
    const { gate } = gateWith([{ action: "tool_use", allowed: true, requireApproval: true }]);
    const call = { toolName: "deploy", input: { env: "prod" }, callId: "c1" };
    const esc = await gate.checkToolCall(call);
    expect(esc.type).toBe("escalate");
    // Before approval, an execute check is not a claim: it stays escalated.
    expect((await gate.checkToolCall({ ...call, execute: true })).type).toBe("escalate");
    await gate.resolveEscalation(esc.escalationId!, { approved: true, approvedBy: "ops" });
    expect((await gate.checkToolCall(call)).type).toBe("allow"); // re-checks before running are fine
    expect((await gate.checkToolCall({ ...call, execute: true })).type).toBe("allow"); // runs
    const replay = await gate.checkToolCall({ ...call, execute: true });
    expect(replay).toMatchObject({ type: "deny", code: "call_replayed" });
    expect((await gate.checkToolCall(call)).type).toBe("allow"); // a non-executing look still sees the approval
  });

  it("limited calls run once per call id, so replays cannot dodge rate limits", async () => {
    const { gate } = gateWith([{ action: "llm_call", allowed: true, maxPerMinute: 5 }]);
    expect((await gate.check("llm_call", { callId: "m1", execute: true })).type).toBe("allow");
    expect((await gate.check("llm_call", { callId: "m1", execute: true })).code).toBe("call_replayed");
    const parallel = await Promise.all(
      Array.from({ length: 5 }, () => gate.check("llm_call", { callId: "m2", execute: true })),
    );
    expect(parallel.filter((d) => d.type === "allow")).toHaveLength(1);
  });

  it("concurrent execute checks of one call ask the inline handler once and run it once", async () => {
    let asked = 0;
    const { gate } = gateWith([{ action: "tool_use", allowed: true, requireApproval: true }], {
      approvalHandler: async () => {
        asked++;
        await new Promise((r) => setTimeout(r, 20));
        return { approved: true, approvedBy: "ops" };
      },
    });
    const call = { toolName: "deploy", input: { env: "prod" }, callId: "twice", execute: true };
    const all = await Promise.all(Array.from({ length: 5 }, () => gate.checkToolCall(call)));
    expect(all.filter((d) => d.type === "allow")).toHaveLength(1);
    expect(all.filter((d) => d.code === "call_replayed")).toHaveLength(4);
    expect(asked).toBe(1);
    expect(gate.decisions.filter((d) => d.code === "approved")).toHaveLength(1);
  });

  it("two gates sharing a store run an inline-approved call once, and audit the losing answer", async () => {
    const store = new MemoryStore();
    const handler = (by: string) => async () => {
      await new Promise((r) => setTimeout(r, 10));
      return { approved: true, approvedBy: by };
    };
    const a = gateWith([{ action: "tool_use", allowed: true, requireApproval: true }], {
      store,
      approvalHandler: handler("alice"),
    }).gate;
    const b = gateWith([{ action: "tool_use", allowed: true, requireApproval: true }], {
      store,
      approvalHandler: handler("bob"),
    }).gate;
    const call = { toolName: "deploy", input: { env: "prod" }, callId: "both", execute: true };
    const all = await Promise.all([
      a.checkToolCall(call),
      b.checkToolCall(call),
      a.checkToolCall(call),
      b.checkToolCall(call),
    ]);
    expect(all.filter((d) => d.type === "allow")).toHaveLength(1);
    expect(all.filter((d) => d.code === "call_replayed")).toHaveLength(3);
    // Both humans were asked; one answer settled it, the other is on record as superseded.
    const audited = [...a.decisions, ...b.decisions];
    expect(audited.filter((d) => d.code === "approved")).toHaveLength(1);
    const superseded = audited.filter((d) => d.code === "approval_superseded");
    expect(superseded).toHaveLength(1);
    expect(superseded[0]).toMatchObject({
      type: "deny",
      callId: "both",
      escalationId: all.find((d) => d.type === "allow")!.escalationId,
    });
    expect(superseded[0]!.reason).toMatch(
      /an approval by (alice|bob) came after escalation .* was settled \(approved by (alice|bob)\)/,
    );
  });

  it("an answer to an already settled escalation is audited before it is refused", async () => {
    const { gate } = gateWith([{ action: "shell", allowed: true, requireApproval: true }]);
    const raised = await gate.check("shell", { target: "ls", callId: "s" });
    const answers = await Promise.allSettled([
      gate.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "alice" }),
      gate.resolveEscalation(raised.escalationId!, { approved: false, approvedBy: "bob" }),
    ]);
    expect(answers.map((x) => x.status).sort()).toEqual(["fulfilled", "rejected"]);
    await expect(gate.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "carol" })).rejects.toThrow(
      /already settled/,
    );
    const superseded = gate.decisions.filter((d) => d.code === "approval_superseded");
    expect(superseded).toHaveLength(2);
    expect(superseded.map((d) => d.reason).join("\n")).toMatch(/carol/);
  });

  it("an executed call is still call_replayed after approvalTtlMs, until runRecordTtlMs", async () => {
    const { gate, clock } = gateWith([{ action: "tool_use", allowed: true, requireApproval: true }], {
      approvalTtlMs: 1_000,
    });
    const call = { toolName: "deploy", input: { env: "prod" }, callId: "late" };
    const raised = await gate.checkToolCall(call);
    await gate.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "ops" });
    expect((await gate.checkToolCall({ ...call, execute: true })).type).toBe("allow");
    clock.advance(60_000);
    expect(await gate.checkToolCall({ ...call, execute: true })).toMatchObject({ type: "deny", code: "call_replayed" });
    clock.advance(86_400_000);
    // Past the documented retention the record is gone: the call needs a fresh approval.
    expect((await gate.checkToolCall({ ...call, execute: true })).type).toBe("escalate");
  });

  it("a limited call that ran stays refused past approvalTtlMs; runRecordTtlMs sets how long", async () => {
    const { gate, clock } = gateWith([{ action: "llm_call", allowed: true, denyAfter: 100 }], {
      approvalTtlMs: 1_000,
      runRecordTtlMs: 10_000,
    });
    expect((await gate.check("llm_call", { callId: "m", execute: true })).type).toBe("allow");
    clock.advance(5_000);
    expect((await gate.check("llm_call", { callId: "m", execute: true })).code).toBe("call_replayed");
    clock.advance(5_001);
    expect((await gate.check("llm_call", { callId: "m", execute: true })).type).toBe("allow");
    expect(() => gateWith([], { runRecordTtlMs: -1 })).toThrow(/runRecordTtlMs/);
  });

  it("an inline approval also claims the execution", async () => {
    const { gate } = gateWith([{ action: "file_write", allowed: true, requireApproval: true }], {
      approvalHandler: () => ({ approved: true, approvedBy: "h" }),
    });
    expect((await gate.check("file_write", { target: "/w/a", callId: "w1", execute: true })).type).toBe("allow");
    expect((await gate.check("file_write", { target: "/w/a", callId: "w1", execute: true })).code).toBe(
      "call_replayed",
    );
  });
});

describe("robustness", () => {
  it("a throwing clock rejects the check instead of throwing synchronously", async () => {
    const gate = new GateKeeper({
      identity,
      policy: new PermissionPolicy({ name: "p", rules: [{ action: "a", allowed: true }] }),
      clock: () => {
        throw new Error("clock broke");
      },
    });
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = gate.check("a");
    }).not.toThrow();
    await expect(result).rejects.toThrow("clock broke");
  });

  it("MemoryStore keeps at most maxCalls call records, oldest evicted first", () => {
    const store = new MemoryStore({ maxCalls: 3 });
    const req = (id: string) => ({
      scope: { policy: "p", agentId: "a", action: "x" },
      key: "p:a:x",
      now: 1,
      windowMs: 60_000,
      escalate: false,
      decisionId: id,
      escalationId: "",
      call: { key: id, fingerprint: "f", ttlMs: 1_000 },
    });
    for (const id of ["c1", "c2", "c3", "c4"]) store.consume(req(id));
    expect(store.consume(req("c1")).repeat).toBeUndefined(); // evicted, decided afresh
    expect(store.consume(req("c4")).repeat).toBeDefined();
  });
});

describe("refuse (failures outside the check)", () => {
  it("records an audited DENY and never throws on garbage", async () => {
    const written: Decision[] = [];
    const { gate } = gateWith([{ action: "tool_use", allowed: true }], {
      auditSinks: [
        {
          write: (d) => {
            written.push(d);
          },
        },
      ],
    });
    const d = gate.refuse("tool_use", "the adapter could not read the call", { target: "search", callId: "c9" });
    expect(d).toMatchObject({
      type: "deny",
      code: "internal_error",
      action: "tool_use",
      target: "search",
      callId: "c9",
    });
    expect(gate.decisions).toEqual([d]);
    expect(written).toEqual([d]);
    const junk = gate.refuse("" as string, 42 as unknown as string, {
      target: 7 as never,
      callId: "x".repeat(5000),
      code: "allow" as never,
    });
    expect(junk).toMatchObject({ type: "deny", code: "internal_error", action: "unknown", reason: "42" });
    expect(junk.target).toBeUndefined();
    expect(junk.callId).toBeUndefined();
    expect(gate.refuse("llm_call", "no approval channel", { code: "approval_error" }).code).toBe("approval_error");
  });
});
