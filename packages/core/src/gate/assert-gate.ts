import type { GateKeeper } from "./gate-keeper.js";

/**
 * Throws a `TypeError` naming the adapter function (`"gateTools"`) unless `gate` looks like a
 * `GateKeeper`: adapters check their arguments up front rather than fail on the first call.
 */
export function assertGate(gate: unknown, caller: string): asserts gate is GateKeeper {
  const methods = gate as Partial<GateKeeper> | null | undefined;
  if (typeof methods?.check !== "function" || typeof methods.checkToolCall !== "function")
    throw new TypeError(`${caller}: \`gate\` must be a GateKeeper`);
}
