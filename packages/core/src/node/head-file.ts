// The head file beside an audit log: the latest signed checkpoint's line (the truncation anchor), then, for a writer
// whose groups can be longer than a reopen reads by default, the `maxBufferBytes` it wrote with.
import { renameSync, writeFileSync } from "node:fs";
import { REOPEN_READ_LIMIT } from "./audit-log-tail.js";

/** What a head file holds. Old head files are one checkpoint line. */
export interface HeadFile {
  /** The checkpoint's line (without `\n`); absent when the log has no signed checkpoint yet. */
  line: string | undefined;
  /** The `maxBufferBytes` of the writer that wrote it, when it raised the reopen limit. */
  maxBufferBytes: number | undefined;
}

/** The settings line is this single key. */
const SETTINGS = /^\{"maxBufferBytes":([1-9][0-9]{0,15})\}$/;

/** Parses a head file's text: its checkpoint line and settings line, or why it is neither. */
export function parseHeadFile(text: string): HeadFile | { problem: string } {
  const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
  let maxBufferBytes: number | undefined;
  const settings = SETTINGS.exec(lines[lines.length - 1]!);
  if (settings !== null) {
    maxBufferBytes = Number(settings[1]);
    lines.pop();
  }
  if (lines.length > 1) return { problem: "it has more than a checkpoint line and a settings line" };
  return { line: lines[0], maxBufferBytes };
}

/**
 * Most bytes reopening a log reads back from its end for a writer with this
 * `maxBufferBytes` (a group is at most about that plus one record).
 */
export function reopenReadLimit(maxBufferBytes: number): number {
  return Math.max(REOPEN_READ_LIMIT, 4 * maxBufferBytes);
}

/** How far a head file's setting can raise a reopen's limit: 16 × its own (1 GiB for a default writer). */
export const HEAD_RAISES_LIMIT_AT_MOST = 16;

/**
 * The reopen limit for a writer whose own is `own`, after a head file that names
 * `maxBufferBytes`: as far back as that writer could have left, but at most
 * `HEAD_RAISES_LIMIT_AT_MOST` × `own`. The settings line is not signed: an edited
 * one must not make a reopen read, and hold, without bound.
 */
export function headReadLimit(own: number, maxBufferBytes: number | undefined): number {
  if (maxBufferBytes === undefined) return own;
  return Math.max(own, Math.min(reopenReadLimit(maxBufferBytes), HEAD_RAISES_LIMIT_AT_MOST * own));
}

/** `maxBufferBytes` when a reopen must be told about it (its groups may be longer than the default limit covers). */
export function headSetting(maxBufferBytes: number): number | undefined {
  return 4 * maxBufferBytes > REOPEN_READ_LIMIT ? maxBufferBytes : undefined;
}

/** The head file's text for a checkpoint line and the writer's setting. */
export function headFileText(line: string | undefined, maxBufferBytes: number | undefined): string {
  const settings = maxBufferBytes === undefined ? "" : `{"maxBufferBytes":${maxBufferBytes}}\n`;
  return `${line === undefined ? "" : `${line}\n`}${settings}`;
}

/**
 * At open, before this writer appends anything: names its `maxBufferBytes` in
 * the head file (keeping the checkpoint line) when its groups may be longer
 * than the head file says a reopen must read, so a reopen after a crash reads
 * far enough back. Returns the setting to keep writing with the head.
 */
export function noteWriterInHead(
  headPath: string,
  head: HeadFile,
  maxBufferBytes: number,
  fsync: boolean,
): number | undefined {
  const setting = headSetting(maxBufferBytes);
  if (setting !== undefined && (head.maxBufferBytes ?? 0) < setting) {
    const tmp = `${headPath}.tmp`;
    writeFileSync(tmp, headFileText(head.line, setting), { flush: fsync });
    renameSync(tmp, headPath);
  }
  return setting;
}
