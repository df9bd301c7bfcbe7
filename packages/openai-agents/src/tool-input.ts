import { errorText } from "@agentgate/core/internal";
import type { FunctionTool } from "@openai/agents-core";

/** The outcome of reading a tool call's raw argument string. */
export type ToolInputResult = { ok: true; input: unknown } | { ok: false; reason: string };

/**
 * Turns the raw JSON argument string of a function call into the input the
 * gate checks: the parsed JSON as plain data (tools without a parameter
 * schema receive the raw string, as in the SDK). With the SDK's default
 * strict schemas this equals what the SDK hands to `needsApproval`; the
 * guardrail prefers the exact value `needsApproval` saw when it has it.
 * Only the SDK's public API is used, so the adapter works across releases.
 * Never throws: anything unreadable is a reason to deny.
 */
export function readToolInput(tool: FunctionTool<any, any, any>, rawArguments: unknown): ToolInputResult {
  if (typeof rawArguments !== "string") {
    return { ok: false, reason: `tool "${tool.name}" was called without an argument string` };
  }
  if (!tool.parameters) return { ok: true, input: rawArguments };
  // The SDK blanks the arguments it hands to guardrails when they failed its own validation.
  if (rawArguments.trim() === "")
    return { ok: false, reason: `tool "${tool.name}" was called with an empty argument string` };
  try {
    return { ok: true, input: JSON.parse(rawArguments) };
  } catch (error) {
    return { ok: false, reason: `malformed JSON arguments for tool "${tool.name}": ${errorText(error)}` };
  }
}

/** A plain-data copy of what the SDK passed to `needsApproval` (undefined when it is not plain JSON data). */
export function plainInput(value: unknown): unknown {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
