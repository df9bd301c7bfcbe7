import { readSync } from "node:fs";
import { ChainHash } from "./audit-chain.js";
import {
  GENESIS_HASH,
  isChainPoint,
  parseRecordLine,
  type CheckpointRecord,
  type ParsedRecordLine,
} from "./audit-record.js";

const TAIL_CHUNK = 64 * 1024;

function readAt(fd: number, from: number, length: number): Buffer {
  const chunk = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, chunk, got, length - got, from + got);
    if (n === 0) break;
    got += n;
  }
  return chunk.subarray(0, got);
}

/**
 * Reads backwards from the end: the last complete line (without `\n`), where it
 * ends (just after its `\n`), and any bytes after it (a torn line).
 */
export function readTail(
  fd: number,
  size: number,
  limit: number,
): { last: Buffer | undefined; lastEnd: number; fragment: Buffer | undefined; problem?: string } {
  if (size === 0) return { last: undefined, lastEnd: 0, fragment: undefined };
  const newlines: number[] = [];
  const chunks: Buffer[] = [];
  let start = size;
  while (start > 0 && newlines.length < 2) {
    if (size - start > limit) {
      const what = `its last line is longer than the ${mib(limit)} a reopen reads`;
      return { last: undefined, lastEnd: 0, fragment: undefined, problem: what };
    }
    const from = Math.max(0, start - TAIL_CHUNK);
    const chunk = readAt(fd, from, start - from);
    chunks.unshift(chunk);
    for (let i = chunk.length - 1; i >= 0 && newlines.length < 2; i--) if (chunk[i] === 0x0a) newlines.push(from + i);
    start = from;
  }
  const buf = Buffer.concat(chunks);
  const at = (abs: number) => abs - start;
  const lastNl = newlines[0];
  if (lastNl === undefined) return { last: undefined, lastEnd: 0, fragment: buf };
  const fragment = lastNl + 1 < size ? buf.subarray(at(lastNl + 1)) : undefined;
  const lineStart = newlines[1] === undefined ? 0 : newlines[1] + 1;
  return { last: buf.subarray(at(lineStart), at(lastNl)), lastEnd: lastNl + 1, fragment };
}

/**
 * Most bytes reopening a log reads back from its end (the last line, or the
 * last group and the records after it), unless `maxBufferBytes` is set so
 * high that 4 × it is more. A genuine group is at most about `maxBufferBytes`
 * plus one record; past the limit the log is refused rather than read without bound.
 */
export const REOPEN_READ_LIMIT = 64 * 1024 * 1024;

/** `bytes` in words. */
export const mib = (bytes: number) => (bytes % 2 ** 20 === 0 ? `${bytes / 2 ** 20} MiB` : `${bytes} bytes`);

/**
 * Calls `visit` with each complete line before `end` (which follows a `\n`),
 * last first, until it returns true; `bytes()` gives the line without its
 * `\n`. Each byte is scanned once, and only the line asked for is held.
 * Returns true when it stopped because the next line starts more than `limit`
 * bytes before `end`: at most about `limit` bytes are read, however long the line.
 */
function eachLineBackward(
  fd: number,
  end: number,
  limit: number,
  visit: (start: number, length: number, bytes: () => Buffer) => boolean,
): boolean {
  let lineEnd = end - 1;
  let pos = lineEnd;
  while (pos > 0) {
    // Any line found further back starts before `pos`.
    if (end - pos > limit) return true;
    const from = Math.max(0, pos - TAIL_CHUNK);
    const chunk = readAt(fd, from, pos - from);
    const top = from + chunk.length;
    for (let i = chunk.length - 1; i >= 0; i--) {
      if (chunk[i] !== 0x0a) continue;
      const start = from + i + 1;
      if (end - start > limit) return true;
      const stop = lineEnd;
      const bytes = () => (stop <= top ? chunk.subarray(i + 1, stop - from) : readAt(fd, start, stop - start));
      if (visit(start, stop - start, bytes)) return false;
      lineEnd = from + i;
    }
    pos = from;
  }
  if (end <= 0) return false;
  if (end > limit) return true;
  const stop = lineEnd;
  visit(0, stop, () => readAt(fd, 0, stop));
  return false;
}

const CHECKPOINT_MARK = Buffer.from('"type":"checkpoint"');

/** `findCheckpoint` found no checkpoint it looks for within `limit` bytes of `end`. */
export interface TooFar {
  tooFar: number;
}

/**
 * The last checkpoint at or before seq `atOrBefore` among the complete lines
 * before `end` (which must follow a `\n`), reading backwards, with its line;
 * `undefined` when the file has none, `{ tooFar: limit }` when none is within
 * `limit` bytes (never more is read). Every group commit of a signed log ends
 * with one, so this reads about one group.
 */
function findCheckpoint(
  fd: number,
  end: number,
  atOrBefore: number,
  limit: number,
): { record: CheckpointRecord; line: string } | TooFar | undefined {
  let found: { record: CheckpointRecord; line: string } | undefined;
  const tooFar = eachLineBackward(fd, end, limit, (_start, _length, bytes) => {
    const line = bytes();
    if (!line.includes(CHECKPOINT_MARK)) return false;
    const text = line.toString("utf8");
    const parsed = parseRecordLine(text);
    if (parsed.record?.type !== "checkpoint") return false;
    if (parsed.record.seq > atOrBefore) return false;
    found = { record: parsed.record, line: text };
    return true;
  });
  return tooFar ? { tooFar: limit } : found;
}

/** The last checkpoint among the complete lines before `end`, if one is within `limit` bytes of it. */
export function findLastCheckpoint(fd: number, end: number, limit: number): CheckpointRecord | TooFar | undefined {
  const found = findCheckpoint(fd, end, Number.POSITIVE_INFINITY, limit);
  return found === undefined || "tooFar" in found ? found : found.record;
}

/**
 * The line (without `\n`) of the checkpoint at seq `seq` before `end`;
 * `undefined` when there is none, `{ tooFar }` when it is not within `limit` bytes.
 */
export function findCheckpointLine(fd: number, end: number, seq: number, limit: number): string | TooFar | undefined {
  const found = findCheckpoint(fd, end, seq, limit);
  if (found === undefined || "tooFar" in found) return found;
  return found.record.seq === seq ? found.line : undefined;
}

/** Where a log's chain stands at its end, from its last complete lines. */
export interface ChainTail {
  /** The seq the next line gets. */
  seq: number;
  /** Hash of the last chain point (or v1 line); `GENESIS_HASH` when there is none. */
  prevHash: string;
  /** The running hash over the v2 records after that chain point, when there are any. */
  open: ChainHash | undefined;
  /** Seq of the first of those records. */
  openFrom: number;
}

/**
 * Reads the complete lines before `end` backwards until the last chain point
 * and the one before it (or the start of the file), and checks them forwards:
 * the last chain point's hash over the records it closes, and the records after
 * it. A v1 line checks itself and ends the search. `problem` says why the end
 * of the log does not verify.
 */
export function readChainTail(fd: number, end: number, limit: number): ChainTail | { problem: string } {
  // Backwards: where the lines to check start (positions only; each line is read again going forwards).
  const spans: { start: number; length: number }[] = [];
  let points = 0;
  let bad: string | undefined;
  const tooFar = eachLineBackward(fd, end, limit, (start, length, bytes) => {
    const parsed = parseRecordLine(bytes().toString("utf8"));
    if (parsed.problem !== undefined) {
      bad = `line ending at byte ${start + length} ${parsed.problem}`;
      return true;
    }
    spans.push({ start, length });
    if (parsed.version === 1 || isChainPoint(parsed.record)) points += parsed.version === 1 ? 2 : 1;
    return points >= 2;
  });
  if (tooFar)
    bad = `its last group and the records after it are longer than the ${mib(limit)} a reopen reads (no chain point before them within it)`;
  if (bad !== undefined) return problem(bad);
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let chain = new ChainHash(prevHash);
  let open = false;
  let openFrom = 0;
  for (let i = spans.length - 1; i >= 0; i--) {
    const { start, length } = spans[i]!;
    const bytes = readAt(fd, start, length);
    const parsed = parseRecordLine(bytes.toString("utf8")) as Extract<ParsedRecordLine, { version: number }>;
    const r = parsed.record;
    if (parsed.version === 1) {
      if (!parsed.hashOk || !parsed.canonical)
        return problem(
          parsed.hashOk ? "its last v1 line is not in canonical form" : "its last v1 line does not match its hash",
        );
      seq = r.seq + 1;
      prevHash = r.hash!;
      chain = new ChainHash(prevHash);
      open = false;
      continue;
    }
    // The first line read may follow earlier lines not read: it sets where the chain stands.
    const first = i === spans.length - 1;
    if (!first && r.seq !== seq) return problem(`seq ${r.seq} follows seq ${seq - 1}`);
    if (isChainPoint(r)) {
      if (first && r.seq > 0) {
        seq = r.seq + 1;
        prevHash = r.hash;
        chain = new ChainHash(prevHash);
        continue;
      }
      if (r.prevHash !== prevHash || parsed.body === undefined || chain.close(parsed.body) !== r.hash)
        return problem(`its last ${r.type} (seq ${r.seq}) does not match the records it closes`);
      prevHash = r.hash;
      open = false;
    } else {
      if (first && r.seq > 0) return problem(`records seq ${r.seq}.. follow no chain point`);
      if (!open) openFrom = r.seq;
      open = true;
      chain.update(bytes);
      chain.update(NEWLINE);
    }
    seq = r.seq + 1;
  }
  return { seq, prevHash, open: open ? chain : undefined, openFrom };
}

const NEWLINE = Buffer.from("\n");
const problem = (why: string) => ({ problem: why });
