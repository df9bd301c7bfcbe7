import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { assertGateKeeper } from "./assert-gate-keeper.js";
import { GateKeeper } from "../gate/gate-keeper.js";

describe("assertGateKeeper", () => {
  it("accepts a gate and names the caller for anything else", async () => {
    const gate = new GateKeeper({
      identity: await AgentIdentity.create("assert-bot"),
      policy: new PermissionPolicy({ name: "a", rules: [] }),
    });
    expect(() => assertGateKeeper(gate, "gateTools")).not.toThrow();
    for (const bad of [undefined, null, {}, { check() {} }, "gate"])
      expect(() => assertGateKeeper(bad, "gateTools")).toThrow(new TypeError("gateTools: `gate` must be a GateKeeper"));
  });
});
