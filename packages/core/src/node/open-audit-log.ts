// Opening an audit log for appending: where its chain stops, what a crash left, and what the new writer may not vouch for.
import { fdatasyncSync, fstatSync, ftruncateSync, readFileSync, writeSync } from "node:fs";
import { canonicalJson } from "../gate/fingerprint.js";
import type { JsonWebKey } from "../identity/agent-identity.js";
import { AuditLogError } from "./audit-log-error.js";
import { ChainHash } from "./audit-chain.js";
import { findCheckpointLine, findLastCheckpoint, mib, readChainTail, readTail } from "./audit-log-tail.js";
import { headReadLimit, parseHeadFile } from "./head-file.js";
import {
  checkpointSignatureOk,
  GENESIS_HASH,
  isChainPoint,
  parseRecordLine,
  sha256,
  type CheckpointRecord,
} from "./audit-record.js";

/** What opening the file found. */
export interface AuditLogOpenState {
  /** True when the file had records and the new ones continue its chain. */
  resumed: boolean;
  /** The seq the next record gets. */
  nextSeq: number;
  /** A torn last line (bytes after the last `\n` that are not a record: an interrupted write): cut off and recorded in a `recovery` record. */
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
  /** Most bytes read back from the end (see `reopenReadLimit`), unless the head file names a writer that could leave more (see `headReadLimit`). */
  readLimit: number;
}

/** v2 records after the log's last chain point (a group torn before it, a recovery record): the next one closes them. */
export interface OpenGroup {
  /** The chain's hash over them so far. */
  hash: ChainHash;
  records: number;
}

/** Where the chain continues. */
export interface ResumePoint {
  seq: number;
  /** Hash of the last chain point (or v1 line). */
  prevHash: string;
  open: OpenGroup | undefined;
  /** Bytes of the file after repairs. */
  size: number;
  /** Seq of the checkpoint the head file names (-1: none). */
  headSeq: number;
  /** The head file's checkpoint line, and the `maxBufferBytes` it names. */
  head: { line: string | undefined; maxBufferBytes: number | undefined };
  state: AuditLogOpenState;
}

const RECOVERY_PREVIEW_BYTES = 1024;

/** The error that refuses to append to `ctx.path`. */
function refuse(ctx: OpenContext, why: string): AuditLogError {
  return new AuditLogError(
    ctx.path,
    `audit log ${ctx.path}: ${why}; refusing to append to a chain that does not verify (check it with verifyAuditLog, then move the log and its head file aside and start a new log)`,
  );
}

/** Finds where the chain stops, repairs a crash's leftovers (never silently), and returns the resume point. */
export function resumeAuditLog(fd: number, ctx: OpenContext): ResumePoint {
  const size = fstatSync(fd).size;
  const { head, maxBufferBytes: headMaxBuffer } = readHead(ctx);
  // What the last writer could have left at the end, not only what this one would: it may have buffered more.
  const readLimit = headReadLimit(ctx.readLimit, headMaxBuffer);
  const { last, lastEnd, fragment, problem } = readTail(fd, size, readLimit);
  if (problem !== undefined) throw refuse(ctx, problem);
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let open: OpenGroup | undefined;
  let end = size;
  const state: AuditLogOpenState = { resumed: false, nextSeq: 0 };
  if (last !== undefined) {
    const parsed = parseRecordLine(last.toString("utf8"));
    if (parsed.problem !== undefined) throw refuse(ctx, `its last line ${parsed.problem}`);
    if (parsed.version === 1) {
      if (!parsed.hashOk || !parsed.canonical)
        throw refuse(ctx, `its last line ${parsed.hashOk ? "is not in canonical form" : "does not match its hash"}`);
      seq = parsed.record.seq + 1;
      prevHash = parsed.record.hash!;
    } else {
      const tail = readChainTail(fd, lastEnd, readLimit);
      if ("problem" in tail) throw refuse(ctx, tail.problem);
      seq = tail.seq;
      prevHash = tail.prevHash;
      if (tail.open) open = { hash: tail.open, records: seq - tail.openFrom };
    }
    state.resumed = true;
  }
  let torn: AuditLogOpenState["recoveredTornLine"];
  let tornPreview = "";
  if (fragment !== undefined) {
    const text = fragment.toString("utf8");
    const parsed = parseRecordLine(text);
    let kept = false;
    if (parsed.record !== undefined && parsed.record.seq === seq) {
      const r = parsed.record;
      if (parsed.version === 1) {
        kept = parsed.hashOk && parsed.canonical && r.prevHash === prevHash;
      } else if (!isChainPoint(r)) {
        kept = true;
        open ??= { hash: new ChainHash(prevHash), records: 0 };
        open.hash.update(Buffer.from(`${text}\n`, "utf8"));
        open.records++;
      } else {
        kept =
          r.prevHash === prevHash &&
          parsed.body !== undefined &&
          (open?.hash ?? new ChainHash(prevHash)).peek(parsed.body) === r.hash;
        if (kept) open = undefined;
      }
    }
    if (!kept && parsed.record !== undefined) {
      // No prefix of a line the writer wrote parses as a record: this one is complete, so it is not torn but wrong.
      throw refuse(
        ctx,
        `its last line (seq ${parsed.record.seq}, a ${parsed.record.type} without its newline) is complete but does not continue the chain: it was edited, or the lines before it were`,
      );
    }
    if (kept) {
      // Complete but for its newline: keep it.
      writeSync(fd, "\n");
      end += 1;
      seq += 1;
      if (parsed.record!.hash !== undefined) prevHash = parsed.record!.hash;
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
  const lastRecord = seq - 1;
  let covered = -1;
  if (ctx.key && lastRecord >= 0) {
    // Never sign over what no signature proves: check the last checkpoint, and name whatever follows it.
    const checkpoint = findLastCheckpoint(fd, end, readLimit);
    if (checkpoint !== undefined && "tooFar" in checkpoint) {
      throw new AuditLogError(
        ctx.path,
        `audit log ${ctx.path}: no signed checkpoint in the last ${mib(readLimit)} of the log, the most a reopen reads back: records this writer would sign over are not covered by a signature it can check; refusing to append (check the log with verifyAuditLog, which reads all of it; then start a new log, or reopen with a maxBufferBytes of at least a quarter of the unsigned tail)`,
      );
    }
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
    const r = head.record;
    if (ctx.key) {
      checkKey(ctx, r);
      if (!checkpointSignatureOk(ctx.key, r)) {
        throw new AuditLogError(
          ctx.path,
          `audit log head file ${ctx.headPath}: its checkpoint's signature does not verify; refusing to append (check with verifyAuditLog)`,
        );
      }
    }
    const closes = head.body === undefined || (open?.hash ?? new ChainHash(prevHash)).peek(head.body) === r.hash;
    if (r.seq < seq) {
      // The head trails the log: the signed line it names must still be there, byte for byte.
      const named = findCheckpointLine(fd, end, r.seq, readLimit);
      if (typeof named === "object") {
        throw new AuditLogError(
          ctx.path,
          `audit log ${ctx.path}: its head file ${ctx.headPath} names checkpoint seq ${r.seq}, which is not in the last ${mib(readLimit)} of the log, the most a reopen reads back (the head file was not updated for that long); refusing to append without checking it (check the log with verifyAuditLog, which reads all of it; if it verifies, reopen with a maxBufferBytes of at least a quarter of the log after that checkpoint, or start a new log)`,
        );
      }
      if (named !== head.line) {
        throw refuse(
          ctx,
          `its head file ${ctx.headPath} names checkpoint seq ${r.seq}, but line ${r.seq + 1} of the log is ${named === undefined ? "not that checkpoint" : "a different checkpoint"}: the log was rewritten`,
        );
      }
    } else if (r.seq === seq && r.prevHash === prevHash && closes) {
      // The writer stopped between writing the head and appending its checkpoint.
      append += `${head.line}\n`;
      seq += 1;
      prevHash = r.hash;
      open = undefined;
      state.restoredCheckpoint = r.seq;
      covered = r.seq;
    } else if (r.seq > seq) {
      throw new AuditLogError(
        ctx.path,
        `audit log ${ctx.path} ends at seq ${seq - 1} but its head file names checkpoint seq ${r.seq}: the log was truncated; refusing to append (to start a new log, move the log and its head file away)`,
      );
    } else {
      // The head names the checkpoint that would come next, but the records before it are not the ones it signed.
      throw refuse(
        ctx,
        `its head file ${ctx.headPath} names checkpoint seq ${r.seq}, the next line, but the records after the log's last chain point do not match it: they were changed after it was signed`,
      );
    }
  }
  const unsigned = ctx.key && covered < lastRecord ? { from: covered + 1, to: lastRecord } : undefined;
  if (torn || unsigned) {
    const recovery: Record<string, unknown> = { at: new Date().toISOString(), seq, type: "recovery", v: 2 };
    if (torn) recovery.torn = { bytes: torn.bytes, preview: tornPreview, sha256: torn.sha256 };
    if (unsigned) recovery.unsigned = unsigned;
    const line = `${canonicalJson(recovery)}\n`;
    open ??= { hash: new ChainHash(prevHash), records: 0 };
    open.hash.update(Buffer.from(line, "utf8"));
    open.records++;
    append += line;
    seq += 1;
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
      `audit log ${ctx.path}: an incomplete last line (${torn.bytes} bytes at offset ${torn.offset}, sha256 ${torn.sha256}; not a record, as an interrupted write leaves) was cut off and recorded in recovery record seq ${seq - 1}`,
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
  return {
    seq,
    prevHash,
    open,
    size: end,
    headSeq: head ? head.record.seq : -1,
    head: { line: head?.line, maxBufferBytes: headMaxBuffer },
    state,
  };
}

function checkKey(ctx: OpenContext, record: CheckpointRecord): void {
  if (record.key.x !== ctx.key!.x) {
    throw new AuditLogError(
      ctx.path,
      `audit log ${ctx.path} is signed with a different key than this sink's signer; use the same key or start a new file`,
    );
  }
}

/** The head file's checkpoint (none when there is no file, or it holds only the writer's setting) and setting. */
function readHead(ctx: OpenContext): {
  head: { line: string; record: CheckpointRecord; body: string | undefined } | undefined;
  maxBufferBytes: number | undefined;
} {
  let text: string;
  try {
    text = readFileSync(ctx.headPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { head: undefined, maxBufferBytes: undefined };
    throw error;
  }
  const file = parseHeadFile(text);
  const line = "problem" in file ? undefined : file.line;
  if (!("problem" in file) && line === undefined) return { head: undefined, maxBufferBytes: file.maxBufferBytes };
  const parsed = line === undefined ? undefined : parseRecordLine(line);
  // A v1 head checks itself; a v2 head's hash covers records in the log (checked where it is used).
  const valid =
    parsed !== undefined &&
    parsed.problem === undefined &&
    parsed.record.type === "checkpoint" &&
    (parsed.version === 1 ? parsed.hashOk && parsed.canonical : parsed.body !== undefined);
  if (!valid) {
    throw new AuditLogError(
      ctx.path,
      `audit log head file ${ctx.headPath} is not a valid checkpoint; refusing to append (check with verifyAuditLog)`,
    );
  }
  return {
    head: {
      line: line!,
      record: parsed.record as CheckpointRecord,
      body: parsed.version === 2 ? parsed.body : undefined,
    },
    maxBufferBytes: (file as { maxBufferBytes?: number }).maxBufferBytes,
  };
}
