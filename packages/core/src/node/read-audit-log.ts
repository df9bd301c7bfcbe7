import { isDecision, type Decision } from "../gate/decision.js";
import { readLineBatches } from "./line-reader.js";

/** One decision read back from an audit log. */
export interface AuditLogEntry {
  /** 1-based line in the file. */
  line: number;
  seq: number;
  decision: Decision;
  /** The redacted arguments, when the sink ran with `includeArgs`. */
  args?: unknown;
}

/**
 * Reads the decisions of an audit log written by `JsonlAuditSink`, oldest
 * first (for display and replay). It does not verify anything: use
 * `verifyAuditLog` for that. Lines that are not decision records
 * (checkpoints, seals, recoveries, a torn last line) are skipped.
 */
export async function readAuditLog(path: string): Promise<AuditLogEntry[]> {
  const out: AuditLogEntry[] = [];
  for await (const batch of readLineBatches(path)) {
    for (const raw of batch) {
      let r: { type?: unknown; seq?: unknown; decision?: unknown; args?: unknown };
      try {
        r = JSON.parse(raw.bytes.toString("utf8"));
      } catch {
        continue;
      }
      if (
        typeof r !== "object" ||
        r === null ||
        r.type !== "decision" ||
        typeof r.seq !== "number" ||
        !isDecision(r.decision)
      )
        continue;
      const entry: AuditLogEntry = { line: raw.line, seq: r.seq, decision: Object.freeze(r.decision) };
      if (r.args !== undefined) entry.args = r.args;
      out.push(entry);
    }
  }
  return out;
}
