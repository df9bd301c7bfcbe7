import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import type { Decision } from "./decision.js";
import { GateKeeper } from "./gate-keeper.js";
import { MemoryStore } from "./memory-store.js";
import type { ConsumeRequest, GateStore } from "./store.js";

const identity = await AgentIdentity.create("limits-bot");
const limited: ActionRule[] = [{ action: "tool_use", allowed: true, allowedTargets: ["search"], denyAfter: 2 }];

/** The MemoryStore behind promises: what a network store looks like to the gate. */
function asyncStore(inner: GateStore = new MemoryStore()): GateStore & { requests: ConsumeRequest[] } {
  const requests: ConsumeRequest[] = [];
  return {
    requests,
    consume: async (r) => (requests.push(structuredClone(r)), inner.consume(r)),
    claimCall: async (r) => inner.claimCall(r),
    createEscalation: async (r, ttl) => inner.createEscalation(r, ttl),
    getEscalation: async (id) => inner.getEscalation(id),
    settleEscalation: async (id, d, release) => inner.settleEscalation(id, d, release),
    listEscalations: async (now, q) => inner.listEscalations(now, q),
  };
}

function gateOn(store: GateStore) {
  return new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules: limited }), store });
}

/** Two calls, a repeat of the first (then its execute check), a third call past deny_after. */
async function script(gate: GateKeeper, args: unknown): Promise<Decision[]> {
  const out: Decision[] = [];
  for (const [callId, execute] of [
    ["a", false],
    ["b", false],
    ["a", false],
    ["a", true],
    ["a", true],
    ["c", false],
  ] as const)
    out.push(await gate.checkToolCall({ toolName: "search", input: args, callId, execute }));
  return out;
}

describe("Limits: a limited check with a call id", () => {
  it("on the MemoryStore is decided and audited before its promise settles (short arguments)", () => {
    const gate = gateOn(new MemoryStore());
    const pending = gate.checkToolCall({ toolName: "search", input: { q: "x" }, callId: "a" });
    expect(gate.decisions).toHaveLength(1);
    expect(gate.decisions[0]).toMatchObject({ type: "allow", callId: "a", action: "tool_use", target: "search" });
    return expect(pending).resolves.toBe(gate.decisions[0]);
  });

  it.each([
    ["short arguments", { q: "x" }],
    ["hashed arguments", { q: "x".repeat(1000) }],
  ])("decides the same on a synchronous and an asynchronous store (%s)", async (_, args) => {
    const store = asyncStore();
    const [sync, async_] = [await script(gateOn(new MemoryStore()), args), await script(gateOn(store), args)];
    const shape = (d: Decision) => [d.type, d.code, d.callId];
    expect(sync.map(shape)).toEqual(async_.map(shape));
    expect(sync.map(shape)).toEqual([
      ["allow", "allowed", "a"],
      ["allow", "allowed", "b"],
      ["allow", "allowed", "a"],
      ["allow", "allowed", "a"],
      ["deny", "call_replayed", "a"],
      ["deny", "deny_after", "c"],
    ]);
    // A repeat is the original decision rebuilt: same id and timestamp.
    expect(sync[2]).toEqual(sync[0]);
    const fingerprint = store.requests[0]!.call!.fingerprint;
    if (JSON.stringify(args).length < 512) expect(fingerprint).toBe('["tool_use","search",{"q":"x"}]');
    else expect(fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(store.requests[0]!.call!.key).toBe(`p:${identity.id}:call:a`);
  });

  it("concurrent checks of one call share one decision and spend one use", async () => {
    const gate = gateOn(new MemoryStore());
    const input = { q: "x" };
    const [a, b] = await Promise.all([
      gate.checkToolCall({ toolName: "search", input, callId: "same" }),
      gate.checkToolCall({ toolName: "search", input, callId: "same" }),
    ]);
    expect(b).toEqual(a);
    expect(gate.decisions).toHaveLength(1);
    expect((await gate.checkToolCall({ toolName: "search", input, callId: "other" })).type).toBe("allow");
    expect((await gate.checkToolCall({ toolName: "search", input, callId: "third" })).code).toBe("deny_after");
  });

  it("keys call records by the escaped call id, whether or not it needs escaping", async () => {
    const store = asyncStore();
    const gate = gateOn(store);
    for (const callId of ["call_1-A.b~*'()!", "a b/ü:%", "\ud800"])
      await gate.checkToolCall({ toolName: "search", input: {}, callId });
    expect(store.requests.map((r) => r.call!.key.slice(`p:${identity.id}:call:`.length))).toEqual([
      "call_1-A.b~*'()!",
      "a%20b%2F%C3%BC%3A%25",
    ]);
    // A lone surrogate cannot be escaped: an audited DENY, nothing sent to the store.
    expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", code: "internal_error" });
    expect(gate.decisions.at(-1)!.reason).toMatch(/cannot fingerprint the call's arguments: URI malformed/);
  });
});
