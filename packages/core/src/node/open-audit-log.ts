// Opening an audit log for appending: where its chain stops, what a crash left, and what the new writer may not vouch for.
import { fdatasyncSync, fstatSync, ftruncateSync, readFileSync, writeSync } from "node:fs";
import { canonicalJson } from "../gate/fingerprint.js";
import type { JsonWebKey } from "../identity/agent-identity.js";
import { AuditLogError } from "./audit-log-error.js";
import { findLastCheckpoint, readTail } from "./audit-log-tail.js";
import {
  chainHash,
  checkpointSignatureOk,
  GENESIS_HASH,
  parseRecordLine,
  recordLine,
  sha256,
  type CheckpointRecord,
} from "./audit-record.js";

/** What opening the file found. */
export interface AuditLogOpenState {
  /** True when the file had records and the new ones continue its chain. */
  resumed: boolean;
  /** The seq the next record gets. */
  nextSeq: number;
  /** A torn (incomplete) last line left by a crash: cut off and recorded in a `recovery` record. */
  recoveredTornLine?: { offset: number; bytes: number; sha256: string };
  /** A checkpoint named by the head file but missing from the log (a crash between the two) was restored. */
  restoredCheckpoint?: number;
  /**
   * Records after the last signed checkpoint (a crash tore the batch before its
   * checkpoint, or someone edited the tail): this writer does not vouch for them.
   * They are named in a `recovery` record, and `verifyAuditLog` reports them.
   */
  unsigned?: { from: number; to: number };
}

/** What opening needs from the sink. */
export interface OpenContext {
  path: string;
  headPath: string;
  /** The signer's public key: set, records no signature covers are named instead of vouched for. */
  key: JsonWebKey | undefined;
  fsync: boolean;
  warn: (message: string) => void;
}

/** Where the chain continues. */
export interface ResumePoint {
  seq: number;
  prevHash: string;
  /** Bytes of the file after repairs. */
  size: number;
  /** Seq of the checkpoint the head file names (-1: none). */
  headSeq: number;
  state: AuditLogOpenState;
}

const RECOVERY_PREVIEW_BYTES = 1024;

/** Finds where the chain stops, repairs a crash's leftovers (never silently), and returns the resume point. */
export function resumeAuditLog(fd: number, ctx: OpenContext): ResumePoint {
  const size = fstatSync(fd).size;
  const { last, lastEnd, fragment } = readTail(fd, size);
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let end = size;
  const state: AuditLogOpenState = { resumed: false, nextSeq: 0 };
  if (last !== undefined) {
    const parsed = parseRecordLine(last.toString("utf8"));
    if (parsed.problem !== undefined || !parsed.hashOk || !parsed.canonical) {
      const why = parsed.problem ?? (parsed.hashOk ? "is not in canonical form" : "does not match its hash");
      throw new AuditLogError(
        ctx.path,
        `audit log ${ctx.path}: its last line ${why}; refusing to append to a chain that does not verify (check it with verifyAuditLog, then start a new file)`,
      );
    }
    seq = parsed.record.seq + 1;
    prevHash = parsed.record.hash;
    state.resumed = true;
  }
  let torn: AuditLogOpenState["recoveredTornLine"];
  let tornPreview = "";
  if (fragment !== undefined) {
    const parsed = parseRecordLine(fragment.toString("utf8"));
    if (
      parsed.record &&
      parsed.hashOk &&
      parsed.canonical &&
      parsed.record.seq === seq &&
      parsed.record.prevHash === prevHash
    ) {
      // Complete but for its newline: keep it.
      writeSync(fd, "\n");
      end += 1;
      seq += 1;
      prevHash = parsed.record.hash;
      state.resumed = true;
    } else {
      torn = { offset: lastEnd, bytes: fragment.length, sha256: sha256(fragment) };
      tornPreview = fragment.subarray(0, RECOVERY_PREVIEW_BYTES).toString("base64");
      // The torn bytes were never acknowledged as written; cut them off and record them below.
      ftruncateSync(fd, lastEnd);
      end = lastEnd;
    }
  }
  let append = "";
  const head = readHead(ctx);
  const lastRecord = seq - 1;
  let covered = -1;
  if (ctx.key && lastRecord >= 0) {
    // Never sign over what no signature proves: check the last checkpoint, and name whatever follows it.
    const checkpoint = findLastCheckpoint(fd, end);
    if (checkpoint) {
      checkKey(ctx, checkpoint);
      if (!checkpointSignatureOk(ctx.key, checkpoint)) {
        throw new AuditLogError(
          ctx.path,
          `audit log ${ctx.path}: checkpoint seq ${checkpoint.seq}'s signature does not verify; refusing to append to a log whose records were changed and re-chained (check it with verifyAuditLog, then start a new file)`,
        );
      }
      covered = checkpoint.seq;
    }
  }
  if (head) {
    if (ctx.key) {
      checkKey(ctx, head.record);
      if (!checkpointSignatureOk(ctx.key, head.record)) {
        throw new AuditLogError(
          ctx.path,
          `audit log head file ${ctx.headPath}: its checkpoint's signature does not verify; refusing to append (check with verifyAuditLog)`,
        );
      }
    }
    if (head.record.seq === seq && head.record.prevHash === prevHash) {
      // The writer stopped between writing the head and appending its checkpoint.
      append += `${head.line}\n`;
      seq += 1;
      prevHash = head.record.hash;
      state.restoredCheckpoint = head.record.seq;
      covered = head.record.seq;
    } else if (head.record.seq > seq) {
      throw new AuditLogError(
        ctx.path,
        `audit log ${ctx.path} ends at seq ${seq - 1} but its head file names checkpoint seq ${head.record.seq}: the log was truncated; refusing to append (to start a new log, move the log and its head file away)`,
      );
    }
  }
  const unsigned = ctx.key && covered < lastRecord ? { from: covered + 1, to: lastRecord } : undefined;
  if (torn || unsigned) {
    const recovery: Record<string, unknown> = { at: new Date().toISOString(), prevHash, seq, type: "recovery" };
    if (torn) recovery.torn = { bytes: torn.bytes, preview: tornPreview, sha256: torn.sha256 };
    if (unsigned) recovery.unsigned = unsigned;
    const body = canonicalJson(recovery);
    const hash = chainHash(prevHash, body);
    append += `${recordLine(body, hash)}\n`;
    seq += 1;
    prevHash = hash;
    if (torn) state.recoveredTornLine = torn;
    if (unsigned) state.unsigned = unsigned;
  }
  if (append !== "") {
    const bytes = Buffer.from(append, "utf8");
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    end += bytes.length;
  }
  if (end !== size && ctx.fsync) fdatasyncSync(fd);
  if (torn) {
    ctx.warn(
      `audit log ${ctx.path}: a torn last line (${torn.bytes} bytes at offset ${torn.offset}, sha256 ${torn.sha256}) from an interrupted write was cut off and recorded in recovery record seq ${seq - 1}`,
    );
  }
  if (unsigned) {
    const { from, to } = unsigned;
    ctx.warn(
      `audit log ${ctx.path}: ${from === to ? `record seq ${from}` : `records seq ${from}..${to}`} after the last signed checkpoint ${from === to ? "is" : "are"} not covered by a signature ` +
        `(a crash before the batch's checkpoint, or an edit); named in recovery record seq ${seq - 1}, not vouched for by this writer`,
    );
  }
  state.nextSeq = seq;
  return { seq, prevHash, size: end, headSeq: head ? head.record.seq : -1, state };
}

function checkKey(ctx: OpenContext, record: CheckpointRecord): void {
  if (record.key.x !== ctx.key!.x) {
    throw new AuditLogError(
      ctx.path,
      `audit log ${ctx.path} is signed with a different key than this sink's signer; use the same key or start a new file`,
    );
  }
}

function readHead(ctx: OpenContext): { line: string; record: CheckpointRecord } | undefined {
  let text: string;
  try {
    text = readFileSync(ctx.headPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const line = text.endsWith("\n") ? text.slice(0, -1) : text;
  const parsed = parseRecordLine(line);
  if (parsed.problem !== undefined || !parsed.hashOk || !parsed.canonical || parsed.record.type !== "checkpoint") {
    throw new AuditLogError(
      ctx.path,
      `audit log head file ${ctx.headPath} is not a valid checkpoint; refusing to append (check with verifyAuditLog)`,
    );
  }
  return { line, record: parsed.record };
}
