import type { FunctionTool } from "@openai/agents-core";

/**
 * A refused call of a tool with a validated `outputSchema` must return a value that fits it, or the SDK aborts
 * the whole run. Without `deniedOutput` or the tool's own `errorFunction` the fallback is core's denial object:
 * refuse the configuration now when it cannot fit.
 */
export function assertDenialFits(tool: FunctionTool<any, any, any>, options: { deniedOutput?: unknown }): void {
  if (tool.outputSchema === undefined || options.deniedOutput || tool.errorFunction) return;
  const sample = { denied: true, decision: "deny", code: "policy_denied", reason: "refused" };
  if (schemaAccepts(tool, sample)) return;
  throw new TypeError(
    `gateTools: tool ${JSON.stringify(tool.name)} has an outputSchema that a refusal ({ denied, decision, code, reason }) does not fit, ` +
      "and neither the `deniedOutput` option nor an `errorFunction` of its own: a refused call would abort the run. " +
      "Pass gateTools(tools, gate, { deniedOutput: (denial) => <a value that fits the schema> }).",
  );
}

/**
 * Whether the SDK would accept `value` as the tool's output. The SDK keeps the validator of a zod
 * `outputSchema` on the tool under a symbol; a tool without one (a JSON-schema `outputSchema`) is not validated
 * at all.
 */
function schemaAccepts(tool: FunctionTool<any, any, any>, value: unknown): boolean {
  const key = Object.getOwnPropertySymbols(tool).find(
    (symbol) => symbol.description === "openai.agents.functionToolOutputValidator",
  );
  const validate = key ? (tool as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof validate !== "function") return true;
  try {
    const result = validate(value, undefined, undefined);
    return !(result instanceof Promise);
  } catch {
    return false;
  }
}
