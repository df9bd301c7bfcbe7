import type { GateKeeper } from "../gate/gate-keeper.js";

/**
 * Throws a `TypeError` naming the caller when `value` is not a gate (anything with
 * `checkToolCall` and `check`): adapters refuse a wrong argument at wiring time, not on a call.
 */
export function assertGateKeeper(value: unknown, caller: string): asserts value is GateKeeper {
  const gate = value as Partial<GateKeeper> | null | undefined;
  if (!gate || typeof gate.checkToolCall !== "function" || typeof gate.check !== "function")
    throw new TypeError(`${caller}: \`gate\` must be a GateKeeper`);
}
