/**
 * What table 3's cases share: the gate they check against, the tool's input, the shape of one
 * adapter's case, and the checks that each gated path really asks the gate and runs the tool.
 */
import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import type { AsyncCase } from "../harness.ts";
import { POLICY } from "../fixture.ts";

export const identity = await AgentIdentity.create("bench-agent");
export const policy = new PermissionPolicy(POLICY);
export const newGate = () => new GateKeeper({ identity, policy });
export const input = { query: "agent permissions" };
export const ARGS = JSON.stringify(input);

export interface Pair {
  adapter: string;
  /** How the tool is called on both sides. */
  how: string;
  direct: AsyncCase;
  gated: AsyncCase;
  /**
   * The least any adapter must do, done the framework's way with no adapter: call `gate.checkToolCall`
   * (`execute: true`, the call id), then run the tool. What `gated` costs over it is the adapter's glue.
   */
  checkOnly: AsyncCase;
  /** Checks once, before timing, that the gated and check-only paths really ask the gate and run the tool. */
  verify: () => Promise<void>;
}

/** How many times one tool call asks the gate, and how many audit entries it leaves. */
export const perCall = new Map<string, { checks: number; audited: number }>();
export async function countGateWork(adapter: string, gate: GateKeeper, call: () => Promise<unknown>): Promise<unknown> {
  let checks = 0;
  const original = gate.checkToolCall;
  Object.defineProperty(gate, "checkToolCall", {
    configurable: true,
    value: (c: Parameters<GateKeeper["checkToolCall"]>[0]) => {
      checks++;
      return original.call(gate, c);
    },
  });
  const before = gate.decisions.length;
  try {
    return await call();
  } finally {
    delete (gate as { checkToolCall?: unknown }).checkToolCall;
    perCall.set(adapter, { checks, audited: gate.decisions.length - before });
  }
}

/** The gate must have recorded an ALLOW for the call id, and the tool's own result must come back. */
export function expectAllowed(gate: GateKeeper, callId: string, result: unknown): void {
  const last = gate.decisions.at(-1);
  if (!last || last.callId !== callId || last.type !== "allow") {
    throw new Error(`the gated call ${callId} did not go through the gate (last decision: ${JSON.stringify(last)})`);
  }
  if (!JSON.stringify(result).includes("agent permissions"))
    throw new Error(`the gated tool did not run: ${JSON.stringify(result)}`);
}
