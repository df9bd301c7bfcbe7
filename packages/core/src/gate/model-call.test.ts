import { describe, expect, it } from "vitest";
import * as entry from "../index.js";
import * as internal from "../internal.js";
import { PermissionDeniedError } from "../errors/permission-denied-error.js";
import { ModelCallDeniedError } from "../errors/model-call-denied-error.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import { GateKeeper, type GateKeeperOptions } from "./gate-keeper.js";
import { MemoryStore } from "./memory-store.js";
import { gateModelCall, requireModelCall } from "./model-call.js";

const identity = await AgentIdentity.create("model-call-bot");
const gateWith = (rules: ActionRule[], options: Partial<GateKeeperOptions> = {}) =>
  new GateKeeper({ identity, policy: new PermissionPolicy({ name: "p", rules }), ...options });

describe("gateModelCall / requireModelCall", () => {
  it("checks llm_call with the model as target; over max_per_minute it throws ModelCallDeniedError with retryAfterMs", async () => {
    const gate = gateWith([{ action: "llm_call", allowed: true, allowedTargets: ["gpt-5-mini"], maxPerMinute: 1 }]);
    expect(await requireModelCall(gate, "gpt-5-mini")).toMatchObject({ type: "allow", action: "llm_call" });
    const error = await requireModelCall(gate, "gpt-5-mini").catch((e: unknown) => e);
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
    // A model the policy does not list: denied; no model named: no target, denied by allowed_targets.
    expect(await gateModelCall(gate, "gpt-4o")).toMatchObject({ type: "deny", target: "gpt-4o" });
    await expect(requireModelCall(gate, undefined)).rejects.toMatchObject({ model: undefined });
    expect(entry.ModelCallDeniedError).toBe(ModelCallDeniedError);
    expect(internal.requireModelCall).toBe(requireModelCall);
    // Not every PermissionDeniedError is a model call's.
    expect(ModelCallDeniedError.isInstance(new PermissionDeniedError(denied.decision))).toBe(false);
  });

  it("passes context to the check, and never rejects: a gate that throws is an audited refusal", async () => {
    const seen: unknown[] = [];
    const gate = gateWith([{ action: "llm_call", allowed: true }], {
      auditSinks: [{ write: (decision) => void seen.push(decision) }],
    });
    const allowed = await gateModelCall(gate, "m", { context: { thread: "t1" } });
    expect(allowed.type).toBe("allow");
    class Broken extends GateKeeper {
      override check(): never {
        throw new Error("gate exploded");
      }
    }
    const broken = new Broken({
      identity,
      policy: new PermissionPolicy({ name: "p", rules: [] }),
      auditSinks: [{ write: (decision) => void seen.push(decision) }],
    });
    const refused = await gateModelCall(broken, "m");
    expect(refused).toMatchObject({ type: "deny", action: "llm_call", target: "m", code: "internal_error" });
    expect(refused.reason).toContain("gate exploded");
    await broken.flush();
    expect(seen).toContainEqual(refused);
    await expect(requireModelCall(broken, "m")).rejects.toSatisfy(ModelCallDeniedError.isInstance);
  });

  it("fails closed when the store is down, and escalates only through an inline approval handler", async () => {
    class DownStore extends MemoryStore {
      override consume(): never {
        throw new Error("connection refused");
      }
    }
    const limited = gateWith([{ action: "llm_call", allowed: true, maxPerMinute: 5 }], { store: new DownStore() });
    await expect(requireModelCall(limited, "m")).rejects.toMatchObject({ decision: { code: "store_unavailable" } });
    const rules: ActionRule[] = [{ action: "llm_call", allowed: true, requireApproval: true }];
    await expect(requireModelCall(gateWith(rules), "m")).rejects.toMatchObject({ decision: { type: "escalate" } });
    const approved = gateWith(rules, { approvalHandler: () => true });
    expect(await requireModelCall(approved, "m")).toMatchObject({ type: "allow" });
  });
});
