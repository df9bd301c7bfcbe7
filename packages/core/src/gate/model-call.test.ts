import { describe, expect, it } from "vitest";
import { PermissionDeniedError } from "../errors/permission-denied-error.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { GateKeeper } from "./gate-keeper.js";
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
});
