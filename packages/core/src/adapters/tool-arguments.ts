import { errorText } from "../errors/error-text.js";
import { quote } from "../gate/tool-call.js";

/**
 * A tool call's input read from the JSON argument string a model wrote. When it cannot be read,
 * `input` is the raw value and `inputError` says why: spread it into `gate.checkToolCall`, which
 * then records an audited DENY (`invalid_input`) instead of deciding.
 */
export interface ToolArguments {
  input: unknown;
  inputError?: string;
}

/** Parses a model's JSON argument string for `toolName`. Never throws. */
export function parseToolArguments(toolName: string, raw: unknown): ToolArguments {
  if (typeof raw !== "string")
    return { input: raw, inputError: `tool ${quote(toolName)} was called without an argument string` };
  try {
    return { input: JSON.parse(raw) };
  } catch (error) {
    // Frameworks blank the arguments that failed their own validation: say so rather than "Unexpected end".
    const inputError =
      raw.trim() === ""
        ? `tool ${quote(toolName)} was called with an empty argument string`
        : `malformed JSON arguments for tool ${quote(toolName)}: ${errorText(error)}`;
    return { input: raw, inputError };
  }
}
