import type { Decision } from "@agentgate/core";

export interface Printer {
  /** Prints one line. */
  line(text?: string): void;
  /** Colours text when the output is a terminal. */
  paint(style: Style, text: string): string;
  /** One line per gate decision, printed as it happens. */
  decision(decision: Decision): void;
}

type Style = "green" | "red" | "yellow" | "cyan" | "dim" | "bold";
const codes: Record<Style, [number, number]> = {
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/** Colour only on a terminal, and never when NO_COLOR is set (FORCE_COLOR forces it). */
export function useColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

export function createPrinter(write: (text: string) => void, color: boolean): Printer {
  const paint = (style: Style, text: string) =>
    color ? `\x1b[${codes[style][0]}m${text}\x1b[${codes[style][1]}m` : text;
  const badge: Record<Decision["type"], string> = {
    allow: paint("green", "✔ ALLOW   "),
    deny: paint("red", "✘ DENY    "),
    escalate: paint("yellow", "⚑ ESCALATE"),
  };
  return {
    line: (text = "") => write(text),
    paint,
    decision: (d) => {
      const target = d.target !== undefined ? ` ${paint("bold", d.target)}` : "";
      const approved = d.approvedBy !== undefined ? paint("cyan", ` [approved by ${d.approvedBy}]`) : "";
      write(`  ${badge[d.type]} ${d.action.padEnd(9)}${target}${approved}\n${" ".repeat(15)}${paint("dim", d.reason)}`);
    },
  };
}
