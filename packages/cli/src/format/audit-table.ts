import type { Decision } from "@agentgate/core";
import type { AuditLogEntry } from "@agentgate/core/node";
import { createStyle, paintDecision } from "./style.js";
import { renderTable } from "./table.js";

/** Options for {@link renderAuditTable}. */
export interface AuditTableOptions {
  /** ANSI colours. Default false. */
  color?: boolean;
  /** Aligned columns (default true); false gives tab-separated lines for scripts. */
  align?: boolean;
}

/** `2025-01-01T12:00:00.123Z` -> `2025-01-01 12:00:00Z`. */
export function shortTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

function toDecision(e: AuditLogEntry | Decision): { decision: Decision; line?: number } {
  return "decision" in e && typeof e.decision === "object"
    ? { decision: e.decision, line: e.line }
    : { decision: e as Decision };
}

/**
 * A readable table of decisions: time, agent, decision, action, target,
 * reason. Takes entries from `readAuditLog` or plain decisions
 * (`gate.decisions`), oldest first.
 */
export function renderAuditTable(
  entries: readonly (AuditLogEntry | Decision)[],
  options: AuditTableOptions = {},
): string {
  const s = createStyle(options.color ?? false);
  const rows = entries.map((e) => {
    const { decision: d } = toDecision(e);
    return [shortTime(d.timestamp), d.agentName, d.type.toUpperCase(), d.action, d.target ?? "-", d.reason];
  });
  return renderTable(["TIME", "AGENT", "DECISION", "ACTION", "TARGET", "REASON"], rows, {
    align: options.align ?? true,
    paintHeader: (v) => s.bold(v),
    paint: (v, column, row) => {
      if (column === 2) return paintDecision(s, rows[row]![2]!.toLowerCase(), v);
      if (column === 0) return s.dim(v);
      return v;
    },
  });
}
