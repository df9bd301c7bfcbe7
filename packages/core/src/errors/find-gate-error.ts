import { AgentGateError } from "./agent-gate-error.js";

/**
 * The AgentGate error behind a framework's error, if any. Agent runners wrap what a tool or
 * request throws in their own error with the original as `cause`; this walks the `cause`
 * chain (a few levels) and returns the first `AgentGateError`.
 */
export function findGateError(error: unknown): AgentGateError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (AgentGateError.isInstance(current)) return current;
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}
