import { AgentIdentity, GateKeeper, PermissionPolicy, type ActionRule } from "@agentgate/core";

type GateOptions = Omit<ConstructorParameters<typeof GateKeeper>[0], "identity" | "policy">;

/** A fresh gate per test, so call ids and counters never leak between tests. */
export async function makeGate(rules: ActionRule[], options: GateOptions = {}): Promise<GateKeeper> {
  const identity = await AgentIdentity.create("test-agent");
  const policy = new PermissionPolicy({ name: "test-policy", rules });
  return new GateKeeper({ identity, policy, ...options });
}
