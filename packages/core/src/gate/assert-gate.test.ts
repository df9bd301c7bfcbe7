import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { assertGate } from "./assert-gate.js";
import { GateKeeper } from "./gate-keeper.js";

describe("assertGate", () => {
  it("accepts a GateKeeper and names the caller when given anything else", async () => {
    const gate = new GateKeeper({
      identity: await AgentIdentity.create("assert-bot"),
      policy: new PermissionPolicy({ name: "p", rules: [] }),
    });
    expect(() => assertGate(gate, "gateTools")).not.toThrow();
    for (const bad of [undefined, null, 1, "gate", {}, { check() {} }, { checkToolCall() {} }])
      expect(() => assertGate(bad, "gateTools")).toThrow(new TypeError("gateTools: `gate` must be a GateKeeper"));
  });
});
