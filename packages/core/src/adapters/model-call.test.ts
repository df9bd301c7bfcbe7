import { describe, expect, it } from "vitest";
import { ModelCallDeniedError } from "../errors/model-call-denied-error.js";
import { PermissionDeniedError } from "../errors/permission-denied-error.js";
import * as entry from "../index.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { MemoryStore } from "../gate/memory-store.js";
import { admitModelCall } from "./model-call.js";

const identity = await AgentIdentity.create("model-bot");
const gate = (rules: ConstructorParameters<typeof PermissionPolicy>[0]["rules"], clock?: () => number) =>
  new GateKeeper({ identity, policy: new PermissionPolicy({ name: "m", rules }), ...(clock ? { clock } : {}) });

describe("admitModelCall", () => {
  it("resolves the ALLOW for an allowed model, with the target and context checked", async () => {
    const g = gate([{ action: "llm_call", allowed: true, allowedTargets: ["gpt-*"] }]);
    const decision = await admitModelCall(g, "gpt-5", { run: "r1" });
    expect(decision).toMatchObject({ type: "allow", action: "llm_call", target: "gpt-5" });
    expect(g.decisions).toEqual([decision]);
  });

  it("rejects with PermissionDeniedError for a DENY, an ESCALATE and a missing target the policy needs", async () => {
    const g = gate([{ action: "llm_call", allowed: true, allowedTargets: ["gpt-*"], escalateTargets: ["gpt-5-pro"] }]);
    for (const target of ["claude", "gpt-5-pro", undefined]) {
      const error = await admitModelCall(g, target).catch((e: unknown) => e);
      expect(PermissionDeniedError.isInstance(error)).toBe(true);
      expect((error as PermissionDeniedError).decision.type).not.toBe("allow");
    }
  });

  it("a check that fails (a throwing clock) is an audited refusal, never a pass", async () => {
    let calls = 0;
    const g = gate([{ action: "llm_call", allowed: true }], () => {
      if (++calls === 1) throw new Error("clock broke");
      return Date.now();
    });
    const error = (await admitModelCall(g, "gpt-5").catch((e: unknown) => e)) as PermissionDeniedError;
    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    expect(error.decision).toMatchObject({ type: "deny", code: "internal_error", target: "gpt-5" });
    expect(error.decision.reason).toMatch(/could not check the model call, so it was refused: clock broke/);
  });

  it("runs a context callback at check time; a callback that throws is an audited refusal", async () => {
    const g = gate([{ action: "llm_call", allowed: true }]);
    let asked = 0;
    const allowed = await admitModelCall(g, "gpt-5", async () => (asked++, { run: "r2" }));
    expect(allowed).toMatchObject({ type: "allow", target: "gpt-5" });
    expect(asked).toBe(1);
    const error = (await admitModelCall(g, "gpt-5", () => {
      throw new Error("no session");
    }).catch((e: unknown) => e)) as PermissionDeniedError;
    expect(error.decision).toMatchObject({ type: "deny", code: "internal_error", target: "gpt-5" });
    expect(error.decision.reason).toMatch(/refused: no session/);
    expect(g.decisions.at(-1)).toBe(error.decision);
  });
});

describe("ModelCallDeniedError", () => {
  it("is what admitModelCall throws: the model it checked, retryAfterMs for a rate limit, exported by the entry", async () => {
    const g = gate([{ action: "llm_call", allowed: true, allowedTargets: ["gpt-5-mini"], maxPerMinute: 1 }]);
    await admitModelCall(g, "gpt-5-mini");
    const error = await admitModelCall(g, "gpt-5-mini").catch((e: unknown) => e);
    expect(ModelCallDeniedError.isInstance(error)).toBe(true);
    expect(PermissionDeniedError.isInstance(error)).toBe(true);
    const denied = error as ModelCallDeniedError;
    expect(denied).toMatchObject({
      name: "ModelCallDeniedError",
      model: "gpt-5-mini",
      code: "AGENTGATE_PERMISSION_DENIED",
    });
    expect(denied.decision.code).toBe("rate_limit");
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    await expect(admitModelCall(g, undefined)).rejects.toMatchObject({ model: undefined });
    expect(entry.ModelCallDeniedError).toBe(ModelCallDeniedError);
    // Not every PermissionDeniedError is a model call's.
    expect(ModelCallDeniedError.isInstance(new PermissionDeniedError(denied.decision))).toBe(false);
  });

  it("fails closed when the store is down; ESCALATE passes only through an inline approval handler", async () => {
    class DownStore extends MemoryStore {
      override consume(): never {
        throw new Error("connection refused");
      }
    }
    const policy = new PermissionPolicy({ name: "m", rules: [{ action: "llm_call", allowed: true, maxPerMinute: 5 }] });
    const down = new GateKeeper({ identity, policy, store: new DownStore() });
    await expect(admitModelCall(down, "m")).rejects.toMatchObject({ decision: { code: "store_unavailable" } });
    const asks = new PermissionPolicy({
      name: "m",
      rules: [{ action: "llm_call", allowed: true, requireApproval: true }],
    });
    await expect(admitModelCall(new GateKeeper({ identity, policy: asks }), "m")).rejects.toSatisfy(
      ModelCallDeniedError.isInstance,
    );
    const approved = new GateKeeper({ identity, policy: asks, approvalHandler: () => true });
    expect(await admitModelCall(approved, "m")).toMatchObject({ type: "allow" });
  });
});
