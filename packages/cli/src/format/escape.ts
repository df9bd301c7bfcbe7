// Every string the CLI prints may hold model-written text (targets, reasons, agent
// names, file names): a terminal acts on control characters in it (erase a line,
// move the cursor, OSC 52 writes the clipboard, C1 CSI does what ESC [ does, bidi
// overrides reorder what is shown). Escape them all, visibly, in one place.

// C0 (except \t and \n, handled below), DEL, C1, line and paragraph separators, bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_LAYOUT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const SGR_OR_CONTROL =
  /\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `\u001b` for ESC and so on (valid inside a JSON string too); `\n`, `\r`, `\t` spelled short. */
function escapeChar(ch: string): string {
  return SHORT[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * A value for display: every control character (C0 including tab and newline,
 * DEL, C1) and every bidi or line-separator character becomes visible text
 * such as `\u001b`. Apply to model-written strings before they are laid out.
 */
export function escapeControl(value: string): string {
  return value.replace(CONTROL_OR_LAYOUT, escapeChar);
}

/**
 * The output boundary: what the CLI writes to stdout or stderr. Keeps the
 * layout's `\n` and `\t` and, when colour is on, the plain SGR colour codes
 * the formatters add (`ESC [ digits m`); escapes every other control character.
 * Formatters escape values with `escapeControl` first, so model-written text
 * never reaches this point holding an escape of its own.
 */
export function terminalSafe(text: string, color: boolean): string {
  return color
    ? text.replace(SGR_OR_CONTROL, (m) => (m.length > 1 ? m : escapeChar(m)))
    : text.replace(CONTROL, escapeChar);
}
