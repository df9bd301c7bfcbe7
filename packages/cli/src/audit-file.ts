import { openSync, readSync, closeSync, statSync } from "node:fs";
import type { AuditLogEntry } from "@agentgate/core/node";
import { readAuditLog } from "@agentgate/core/node";
import { CliError, usageError } from "./errors.js";

/** Fails with a usage error unless `path` is a readable file. */
export function assertReadableFile(path: string, what: string): number {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw usageError(`cannot read ${what} ${path}: it is a directory, not a file`);
    size = st.size;
    closeSync(openSync(path, "r"));
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(
      `cannot read ${what} ${path}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message}`,
    );
  }
  return size;
}

/** The first line of a file (at most 64 KiB of it). */
function firstLine(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(65_536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString("utf8").split("\n")[0] ?? "";
  } finally {
    closeSync(fd);
  }
}

function looksLikeAuditRecord(line: string): boolean {
  try {
    const r = JSON.parse(line) as Record<string, unknown> | null;
    return (
      typeof r === "object" &&
      r !== null &&
      typeof r.seq === "number" &&
      // v1 lines all carry a hash; v2 lines carry their format version.
      (typeof r.hash === "string" || r.v === 2) &&
      typeof r.type === "string"
    );
  } catch {
    return false;
  }
}

/**
 * Reads the decisions of an audit log written by `JsonlAuditSink`. A missing
 * file, a directory, or a file that is not an audit log is a usage error.
 */
export async function loadAuditEntries(path: string): Promise<AuditLogEntry[]> {
  const size = assertReadableFile(path, "audit log");
  let entries: AuditLogEntry[];
  try {
    entries = await readAuditLog(path);
  } catch (error) {
    throw usageError(`cannot read audit log ${path}: ${(error as Error).message}`);
  }
  if (entries.length === 0 && size > 0 && !looksLikeAuditRecord(firstLine(path))) {
    throw usageError(`${path} is not an AgentGate audit log: line 1 is not an audit record`);
  }
  return entries;
}
