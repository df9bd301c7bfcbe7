import pc from "picocolors";

/** The colour functions the formatters use; identity functions when colour is off. */
export type Style = ReturnType<typeof pc.createColors>;

/** Colours on or off. */
export function createStyle(color: boolean): Style {
  return pc.createColors(color);
}

/**
 * Whether to colour output: `NO_COLOR` (non-empty) turns colour off,
 * `FORCE_COLOR` (anything but `0`/`false`) turns it on, otherwise only on a TTY.
 */
export function shouldColor(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force !== "false";
  if (env.TERM === "dumb") return false;
  return isTTY === true;
}

/** Colours a decision type: allow green, deny red, escalate yellow. */
export function paintDecision(s: Style, type: string, text: string = type.toUpperCase()): string {
  if (type === "allow") return s.green(text);
  if (type === "deny") return s.red(text);
  if (type === "escalate") return s.yellow(text);
  return text;
}
