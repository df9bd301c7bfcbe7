import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { checkToolCallWithContext } from "./tool-call-context.js";

const identity = await AgentIdentity.create("context-bot");
const newGate = () =>
  new GateKeeper({
    identity,
    policy: new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] }),
  });

describe("checkToolCallWithContext", () => {
  it("passes the resolved context to the decision, and checks as is without a resolver", async () => {
    const gate = newGate();
    const contexts: unknown[] = [];
    gate.observe((_decision, event) => contexts.push(event.context));
    const call = { toolName: "search", input: {}, callId: "c1" };
    expect(await checkToolCallWithContext(gate, call, async () => ({ tenant: "acme" }))).toMatchObject({
      type: "allow",
    });
    expect(contexts).toEqual([{ tenant: "acme", toolName: "search" }]);
    expect(await checkToolCallWithContext(gate, { ...call, callId: "c2" }, () => null)).toMatchObject({
      type: "allow",
    });
    expect(await checkToolCallWithContext(gate, { ...call, callId: "c3" })).toMatchObject({ type: "allow" });
  });

  it("a resolver that throws, rejects or returns a non-object is an audited DENY naming the tool", async () => {
    const gate = newGate();
    const resolvers = [
      () => {
        throw new Error("no session");
      },
      () => Promise.reject(new Error("timeout")),
      () => "tenant" as never,
      () => [] as never,
    ];
    for (const [i, context] of resolvers.entries()) {
      const decision = await checkToolCallWithContext(
        gate,
        { toolName: "search", input: {}, callId: `c${i}` },
        context,
      );
      expect(decision).toMatchObject({ type: "deny", code: "internal_error", target: "search", callId: `c${i}` });
      expect(decision.reason).toMatch(/^AgentGate could not check tool "search" \(.+\), so the call is denied$/);
    }
    expect(gate.decisions.map((d) => d.type)).toEqual(["deny", "deny", "deny", "deny"]);
  });
});
