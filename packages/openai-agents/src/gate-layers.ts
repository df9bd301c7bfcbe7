import type { FrameworkToolSteps } from "@agentgate/core/internal";
import type { GateKeeper, ToolMapping } from "@agentgate/core";
import type { Tool } from "@openai/agents-core";

/**
 * What `gateTools` attaches to a tool it wrapped: one layer per gate, so
 * `resolveGateInterruptions` can tell which interruptions a given gate raised
 * and re-check them the same way. `Symbol.for` keeps it readable across
 * duplicate installs of this package.
 */
export const GATE_LAYERS: unique symbol = Symbol.for("agentgate.openai-agents.gate-layers") as never;

/** One gate wrapped around a tool. */
export interface GateLayer {
  readonly gate: GateKeeper;
  readonly mapping: ToolMapping | undefined;
  readonly toolName: string;
  /** Reads a call's input the way every check of the call does. */
  readonly steps: FrameworkToolSteps;
}

/** The layers on a tool, outermost last; empty for a tool no gate wrapped. */
export function gateLayers(tool: unknown): readonly GateLayer[] {
  const layers = (tool as { [GATE_LAYERS]?: unknown } | null | undefined)?.[GATE_LAYERS];
  return Array.isArray(layers) ? (layers as GateLayer[]) : [];
}

/** The layer of `gate` on `tool`, if `gateTools(…, gate)` wrapped it. */
export function findGateLayer(tool: Tool<any> | undefined, gate: GateKeeper): GateLayer | undefined {
  if (!tool || tool.type !== "function") return undefined;
  return gateLayers(tool).find((layer) => layer.gate === gate);
}
