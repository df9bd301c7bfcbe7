import { firedValue, type DecisionExplanation } from "../explain.js";
import { escapeControl } from "./escape.js";
import { createStyle, paintDecision, type Style } from "./style.js";

/** Options shared by the human-readable formatters. */
export interface FormatOptions {
  /** ANSI colours. Default false. */
  color?: boolean;
}

function describeRequest(e: DecisionExplanation): string {
  const parts = [e.action];
  if (e.input !== undefined) parts.push(e.input);
  if (e.target !== undefined && e.target !== e.input) parts.push(`(as ${e.target})`);
  if (e.uses > 0) parts.push(`after ${e.uses} use${e.uses === 1 ? "" : "s"}`);
  return escapeControl(parts.join(" "));
}

/** Labelled lines with the labels padded to one width. */
export function renderFields(
  fields: readonly (readonly [string, string | undefined])[],
  s: Style,
  indent = "  ",
): string[] {
  const present = fields.filter((f): f is readonly [string, string] => f[1] !== undefined);
  const width = Math.max(0, ...present.map(([k]) => k.length));
  return present.map(([k, v]) => `${indent}${s.dim(k.padEnd(width))}  ${escapeControl(v)}`);
}

/**
 * The human-readable form of a decision: the verdict, then why, which rule,
 * and which list or limit fired.
 */
export function formatExplanation(e: DecisionExplanation, options: FormatOptions = {}): string {
  const s = createStyle(options.color ?? false);
  const head = `${s.bold(paintDecision(s, e.decision))}  ${describeRequest(e)}`;
  const rule =
    e.ruleIndex !== undefined
      ? `rules[${e.ruleIndex}] (action ${e.action})`
      : "none: no rule for this action, denied by default";
  const value = firedValue(e);
  const fired = e.fired !== undefined ? `${e.fired}${value !== undefined ? `: ${value}` : ""}` : undefined;
  const fields: [string, string | undefined][] = [
    ["why", e.reason],
    ["rule", rule],
    ["fired", fired],
    ["code", e.code],
  ];
  if (e.primed !== undefined && e.primed < e.uses) {
    fields.push(["note", `only ${e.primed} of the ${e.uses} prior uses were allowed; a limit refused the rest`]);
  }
  return [head, ...renderFields(fields, s)].join("\n");
}
