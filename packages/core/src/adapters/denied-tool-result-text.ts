import { isDeniedToolResult, type DeniedToolResult } from "../gate/approval.js";

/**
 * Reads back a `deniedToolResult` an adapter passed through a framework as JSON text (a
 * rejection message, an error's message), or undefined for any other text.
 */
export function deniedToolResultIn(text: unknown): DeniedToolResult | undefined {
  if (typeof text !== "string" || !text.startsWith("{")) return undefined;
  try {
    const payload: unknown = JSON.parse(text);
    return isDeniedToolResult(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}
