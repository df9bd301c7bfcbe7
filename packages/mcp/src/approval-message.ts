import { canonicalJson } from "@agentgate/core/internal";

const MAX_ARGS = 2000;
const UNSAFE = /[\p{Cf}\p{Cc}\p{Zl}\p{Zp}\p{Co}]/gu;

/** `\uXXXX` for every UTF-16 unit of an unsafe character (astral ones are two). */
function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    let out = "";
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`;
    return out;
  });
}

/**
 * A JSON string literal that is also safe to show: besides JSON's own escapes,
 * format, control, separator and private-use characters (bidi overrides,
 * zero-width characters, line separators) become `\uXXXX`, so model-written text
 * cannot fake lines or reorder what the human reads.
 */
export function quoteForDisplay(text: string, max = 500): string {
  const clipped = text.length > max ? `${text.slice(0, max)}… [${text.length} characters]` : text;
  return escapeUnsafe(JSON.stringify(clipped));
}

function argsText(args: unknown): string {
  let json: string;
  try {
    json = canonicalJson(args ?? {});
  } catch {
    return "[arguments not JSON-serialisable]";
  }
  const clipped = json.length > MAX_ARGS ? `${json.slice(0, MAX_ARGS)}… [${json.length} characters]` : json;
  return escapeUnsafe(clipped);
}

/** What the human is asked when a call escalates: server, tool, action, target and arguments, every model-written value quoted. */
export function approvalMessage(fields: {
  server: string;
  tool?: string;
  action: string;
  target?: string;
  args?: unknown;
  reason: string;
}): string {
  const lines = [
    "AgentGate: an agent asks to run a call that needs your approval.",
    `Server: ${quoteForDisplay(fields.server, 200)}`,
  ];
  if (fields.tool !== undefined) lines.push(`Tool: ${quoteForDisplay(fields.tool, 200)}`);
  lines.push(`Action: ${quoteForDisplay(fields.action, 200)}`);
  if (fields.target !== undefined) lines.push(`Target: ${quoteForDisplay(fields.target)}`);
  if (fields.args !== undefined)
    lines.push(`Arguments (written by the model, shown as data): ${argsText(fields.args)}`);
  lines.push(`Why approval is needed: ${quoteForDisplay(fields.reason)}`);
  lines.push("Accept to run this call once. Decline to refuse it.");
  return lines.join("\n");
}
