import type { FunctionTool } from "@openai/agents-core";
import { getFunctionToolApprovalInput, prepareFunctionToolInput } from "@openai/agents-core/utils/internal";

/** The outcome of reading a tool call's raw argument string. */
export type ToolInputResult = { ok: true; input: unknown } | { ok: false; reason: string };

/**
 * Turns the raw JSON argument string of a function call into the input the
 * gate checks. It mirrors what the SDK hands to `needsApproval` (JSON parse,
 * then the tool's own schema, then a plain-data copy), so the guardrail, the
 * approval policy and `resolveGateInterruptions` all present the *same* input
 * for one call id; core treats a changed input under a known call id as a
 * mismatch. Never throws: anything unreadable is a reason to deny.
 */
export function readToolInput(tool: FunctionTool<any, any, any>, rawArguments: unknown): ToolInputResult {
  if (typeof rawArguments !== "string") {
    return { ok: false, reason: `tool "${tool.name}" was called without an argument string` };
  }
  // Tools without a parameter schema receive the raw string, as in the SDK.
  if (!tool.parameters) return { ok: true, input: rawArguments };
  // The SDK blanks the arguments it hands to guardrails when they failed its own validation.
  if (rawArguments.trim() === "") return { ok: false, reason: `tool "${tool.name}" was called with an empty argument string` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawArguments);
  } catch (error) {
    return {
      ok: false,
      reason: `malformed JSON arguments for tool "${tool.name}": ${errorMessage(error)}`,
    };
  }
  let prepared: ReturnType<typeof prepareFunctionToolInput>;
  try {
    prepared = prepareFunctionToolInput(tool, rawArguments);
  } catch (error) {
    return { ok: false, reason: `arguments for tool "${tool.name}" could not be validated: ${errorMessage(error)}` };
  }
  if (!prepared) return { ok: true, input: parsed };
  if (!prepared.result.success) {
    return {
      ok: false,
      reason: `arguments for tool "${tool.name}" do not match its input schema: ${errorMessage(prepared.result.error)}`,
    };
  }
  try {
    return { ok: true, input: getFunctionToolApprovalInput(prepared.result.value) };
  } catch (error) {
    return { ok: false, reason: `arguments for tool "${tool.name}" are not plain data: ${errorMessage(error)}` };
  }
}

/** A short, single-line description of anything thrown. */
export function errorMessage(error: unknown): string {
  const issues = (error as { issues?: unknown } | null)?.issues;
  if (Array.isArray(issues) && issues.length > 0) {
    // Schema libraries (zod, Standard Schema) put a JSON dump in `message`; list the issues instead.
    return issues
      .slice(0, 5)
      .map((issue: { path?: unknown; message?: unknown }) => {
        const path = Array.isArray(issue?.path) && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
        return `${path}${String(issue?.message ?? "invalid")}`;
      })
      .join("; ");
  }
  if (error instanceof Error) return error.message.split("\n")[0] || error.name;
  try {
    return String(error);
  } catch {
    return "unknown error";
  }
}
