import { AgentGateError } from "@agentgate/core";

const marker = "agentgate.error.CheckpointerRequiredError";
const symbol = Symbol.for(marker);

/**
 * @deprecated No longer thrown: without a checkpointer, `gateMiddleware` refuses
 * an escalated call like `gateTools` and `GateCallbackHandler` do (the model
 * reads why; the escalation stays pending). Kept so existing imports compile.
 */
export class CheckpointerRequiredError extends AgentGateError {
  private readonly [symbol] = true;
  declare readonly code: "AGENTGATE_CHECKPOINTER_REQUIRED";

  constructor(toolName: string, options?: { cause?: unknown }) {
    super(
      "AGENTGATE_CHECKPOINTER_REQUIRED",
      `@agentgate/langchain: tool ${JSON.stringify(toolName)} needs human approval, and gateMiddleware asks for it with a ` +
        "LangGraph interrupt, which requires a checkpointer. Pass one to createAgent (e.g. " +
        "createAgent({ ..., checkpointer: new MemorySaver() })) and a thread_id in the config, or give the GateKeeper " +
        "an approvalHandler. The tool did not run.",
      options,
    );
    this.name = "CheckpointerRequiredError";
  }

  static override isInstance(error: unknown): error is CheckpointerRequiredError {
    return AgentGateError.hasMarker(error, marker);
  }
}
