import { isDeniedToolResult, type DeniedToolResult } from "@agentgate/core";

/**
 * What a gated tool returns instead of running when the gate refuses the call:
 * `{ denied: true, decision, code, reason, retryAfterMs? }`. The model reads it as the
 * tool result and can react (apologise, wait `retryAfterMs`, ask for approval).
 */
export type GateDeniedResult = DeniedToolResult;

/**
 * True when a tool output is a {@link GateDeniedResult} (works on outputs that went
 * through JSON, e.g. UI messages). The AI SDK's name for core's `isDeniedToolResult`.
 */
export function isGateDenial(value: unknown): value is GateDeniedResult {
  return isDeniedToolResult(value);
}
