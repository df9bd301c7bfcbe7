// `langchain` and `@langchain/langgraph` are optional peers: GateCallbackHandler
// and gateTools need only @langchain/core, so importing this package must work
// (and `require` too) without them and without loading them. `langchain` is a
// type-only import; LangGraph is loaded on first use, never at the top level.

type LangGraph = typeof import("@langchain/langgraph");

let langgraph: Promise<LangGraph> | undefined;

/** `@langchain/langgraph`, loaded on first use (only escalations need it). */
export function loadLanggraph(): Promise<LangGraph> {
  langgraph ??= import("@langchain/langgraph").catch((error: unknown) => {
    langgraph = undefined;
    const hint = "npm install @langchain/langgraph";
    throw new Error(`@agentgate/langchain: approvals through interrupts need \`@langchain/langgraph\` (v1): ${hint}`, {
      cause: error,
    });
  });
  return langgraph;
}
