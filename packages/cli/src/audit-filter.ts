import type { DecisionType } from "@agentgate/core";
import type { AuditLogEntry } from "@agentgate/core/node";
import { usageError } from "./errors.js";

/** Filters for `audit show`. */
export interface AuditFilter {
  /** Agent id or name. */
  agent?: string;
  type?: DecisionType;
  /** Only decisions at or after this epoch ms. */
  since?: number;
  /** Only the most recent N (after the other filters). */
  limit?: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since`: a duration back from now (`90s`, `15m`, `1h`, `2d`, `1w`) or an ISO 8601 time. */
export function parseSince(value: string, now: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  if (/^\d{4}-\d\d-\d\d/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  throw usageError(
    `--since must be a duration like 30m, 1h or 2d, or an ISO time like 2025-01-01T00:00:00Z; got ${JSON.stringify(value)}`,
  );
}

/** Applies the filters; keeps the oldest-first order. */
export function filterAuditEntries(entries: readonly AuditLogEntry[], filter: AuditFilter): AuditLogEntry[] {
  let out = entries.filter((e) => {
    const d = e.decision;
    if (filter.agent !== undefined && d.agentId !== filter.agent && d.agentName !== filter.agent) return false;
    if (filter.type !== undefined && d.type !== filter.type) return false;
    if (filter.since !== undefined) {
      const t = Date.parse(d.timestamp);
      if (Number.isNaN(t) || t < filter.since) return false;
    }
    return true;
  });
  if (filter.limit !== undefined) out = filter.limit === 0 ? [] : out.slice(-filter.limit);
  return out;
}
