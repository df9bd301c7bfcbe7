// `langchain` and `@langchain/langgraph` are optional peers: GateCallbackHandler
// and gateTools need only @langchain/core, so importing this package must work
// without them. They are loaded here, once, and asked for only where needed.

type LangChain = typeof import("langchain");
type LangGraph = typeof import("@langchain/langgraph");

let langchainError: unknown;
const langchain: LangChain | undefined = await import("langchain").catch((error: unknown) => {
  langchainError = error;
  return undefined;
});

/** `langchain` (for `createMiddleware`), or a clear error saying it is needed. */
export function requireLangchain(feature: string): LangChain {
  if (langchain) return langchain;
  throw new Error(`@agentgate/langchain: ${feature} needs the \`langchain\` package (v1): npm install langchain`, {
    cause: langchainError,
  });
}

let langgraph: Promise<LangGraph> | undefined;

/** `@langchain/langgraph`, loaded on first use (only escalations need it). */
export function loadLanggraph(): Promise<LangGraph> {
  langgraph ??= import("@langchain/langgraph").catch((error: unknown) => {
    langgraph = undefined;
    throw new Error("@agentgate/langchain: approvals through interrupts need `@langchain/langgraph` (v1): npm install @langchain/langgraph", {
      cause: error,
    });
  });
  return langgraph;
}
