import type { ReplayResult } from "../replay.js";
import { shortTime } from "./audit-table.js";
import { escapeControl } from "./escape.js";
import { createStyle, paintDecision } from "./style.js";
import { renderTable } from "./table.js";

const ORDER = ["deny->allow", "escalate->allow", "deny->escalate", "allow->deny", "allow->escalate", "escalate->deny"];

/** The human-readable blast radius of a policy change. */
export function formatReplayResult(
  result: ReplayResult,
  options: { color?: boolean; align?: boolean; file?: string } = {},
): string {
  const s = createStyle(options.color ?? false);
  const align = options.align ?? true;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const lines: string[] = [];
  lines.push(
    escapeControl(
      `replayed ${plural(result.replayed, "decision")} of ${result.total}${options.file ? ` in ${options.file}` : ""} against policy "${result.policy}"`,
    ),
  );
  const others = result.recordedPolicies.filter((p) => p !== result.policy);
  if (others.length > 0)
    lines.push(s.dim(escapeControl(`(recorded under policy ${others.map((p) => `"${p}"`).join(", ")})`)));
  lines.push("");
  if (result.changed === 0) lines.push(`${s.green("no change")}: ${result.unchanged} unchanged`);
  else {
    lines.push(`${s.bold(`${plural(result.changed, "decision")} would change`)}, ${result.unchanged} unchanged`);
    const keys = Object.keys(result.transitions).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
    const width = Math.max(...keys.map((k) => k.length));
    for (const k of keys) {
      const [from, to] = k.split("->") as [string, string];
      const label = `${paintDecision(s, from, from)} -> ${paintDecision(s, to, to)}`;
      lines.push(`  ${label}${" ".repeat(width - k.length + 2)}${result.transitions[k]}`);
    }
    lines.push("");
    const rows = result.changes.map((c) => [
      String(c.line),
      shortTime(c.timestamp),
      c.agentName,
      c.action,
      c.target ?? "-",
      `${c.from.toUpperCase()} -> ${c.to.toUpperCase()}`,
      c.reason,
    ]);
    lines.push(
      renderTable(["LINE", "TIME", "AGENT", "ACTION", "TARGET", "CHANGE", "WHY (CANDIDATE)"], rows, {
        align,
        paintHeader: (v) => s.bold(v),
        paint: (v, column, row) => (column === 5 ? paintDecision(s, result.changes[row]!.to, v) : v),
      }),
    );
  }
  if (result.limitDriven.length > 0) {
    const byCode = new Map<string, number>();
    for (const l of result.limitDriven) byCode.set(l.recordedCode, (byCode.get(l.recordedCode) ?? 0) + 1);
    lines.push(
      "",
      `${s.yellow("limit-driven")}: ${plural(result.limitDriven.length, "decision")} came from counters (${[...byCode].map(([c, n]) => `${c} ${n}`).join(", ")}); not replayed, the outcome depends on timing`,
    );
    const rows = result.limitDriven.map((l) => [
      String(l.line),
      l.action,
      l.target ?? "-",
      `${l.recorded.toUpperCase()} (${l.recordedCode})`,
      `${l.staticVerdict.toUpperCase()}, ${Object.entries(l.limits)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    ]);
    lines.push(
      renderTable(["LINE", "ACTION", "TARGET", "RECORDED", "CANDIDATE (BEFORE COUNTERS)"], rows, {
        align,
        paintHeader: (v) => s.bold(v),
      }),
    );
  }
  const notes: string[] = [];
  if (result.nowLimited > 0)
    notes.push(
      `${plural(result.nowLimited, "allowed decision")} now fall under a limit; counters might refuse some of them`,
    );
  if (result.settlements > 0)
    notes.push(
      `${plural(result.settlements, "human settlement")} of escalations above counted once, as the escalation`,
    );
  if (result.notReplayable.length > 0) {
    const codes = [...new Set(result.notReplayable.map((n) => n.code))].join(", ");
    notes.push(
      `${plural(result.notReplayable.length, "decision")} from the gate's own failures (${codes}) not replayed`,
    );
  }
  if (notes.length > 0) lines.push("", ...notes.map((n) => s.dim(`note: ${n}`)));
  lines.push(
    "",
    result.ok
      ? s.green("OK: nothing would become ALLOW that was not")
      : s.red(
          s.bold(
            `FAIL: ${plural(result.newlyAllowed, "decision")} would become ALLOW that ${result.newlyAllowed === 1 ? "was" : "were"} not`,
          ),
        ),
  );
  return lines.join("\n");
}
