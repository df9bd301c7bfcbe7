import { AgentGateError } from "@agentgate/core";

const marker = "agentgate.error.CheckpointerRequiredError";
const symbol = Symbol.for(marker);

/**
 * @deprecated No longer thrown: without a checkpointer, `gateMiddleware` refuses an escalated call like
 * `gateTools` and `GateCallbackHandler` do (the model reads why; the escalation stays pending).
 */
export class CheckpointerRequiredError extends AgentGateError {
  private readonly [symbol] = true;
  declare readonly code: "AGENTGATE_CHECKPOINTER_REQUIRED";

  constructor(toolName: string, options?: { cause?: unknown }) {
    super(
      "AGENTGATE_CHECKPOINTER_REQUIRED",
      `@agentgate/langchain: tool ${JSON.stringify(toolName)} needs human approval, which needs a checkpointer`,
      options,
    );
    this.name = "CheckpointerRequiredError";
  }

  static override isInstance(error: unknown): error is CheckpointerRequiredError {
    return AgentGateError.hasMarker(error, marker);
  }
}
