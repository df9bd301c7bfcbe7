/**
 * What an adapter knows about one tool call when it asks the gate.
 * Passed to the `context` option so an app can attach per-call context
 * (tenant, user, request id) to the decision.
 */
export interface GateCallInfo {
  /** The tool's key in the ToolSet. */
  toolName: string;
  /** The AI SDK's `toolCallId`; the gate uses it as `callId`. */
  toolCallId: string;
  /** The parsed tool input. */
  input: unknown;
  /** The tool's own context (`toolsContext[toolName]`), when the SDK provides it. */
  toolContext?: unknown;
  /** The call's `runtimeContext`. Only `gateToolApproval` sees it; `execute` does not. */
  runtimeContext?: unknown;
}

/** Resolves extra context for a decision. A throw or rejection fails closed (DENY). */
export type GateContextResolver = (
  info: GateCallInfo,
) => Record<string, unknown> | undefined | PromiseLike<Record<string, unknown> | undefined>;
