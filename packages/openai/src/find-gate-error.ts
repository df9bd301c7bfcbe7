import { AgentGateError } from "@agentgate/core";

/**
 * The AgentGate error behind an SDK error, if any. The `openai` runners wrap
 * what a tool or request throws in an `OpenAIError` with the original as
 * `cause`; this walks the `cause` chain (a few levels) and returns the first
 * `AgentGateError` (e.g. {@link ToolCallEscalatedError}, {@link ModelCallDeniedError}).
 */
export function findGateError(error: unknown): AgentGateError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (AgentGateError.isInstance(current)) return current;
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}
