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
): { last: Buffer | undefined; lastEnd: number; fragment: Buffer | undefined } {
  if (size === 0) return { last: undefined, lastEnd: 0, fragment: undefined };
  const newlines: number[] = [];
  const chunks: Buffer[] = [];
  let start = size;
  while (start > 0 && newlines.length < 2) {
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

const CHECKPOINT_MARK = Buffer.from('"type":"checkpoint"');

/**
 * The last checkpoint record among the complete lines before `end` (which must
 * follow a `\n`), reading backwards. Every group commit ends with one, so this
 * reads one batch; a log never signed is read to its start.
 */
export function findLastCheckpoint(fd: number, end: number): CheckpointRecord | undefined {
  let carry = Buffer.alloc(0);
  let pos = end;
  while (pos > 0) {
    const from = Math.max(0, pos - TAIL_CHUNK);
    let buf = Buffer.concat([readAt(fd, from, pos - from), carry]);
    // Lines wholly inside buf, last first; the part before the first newline waits for the next chunk.
    let stop = buf.length;
    if (buf[stop - 1] === 0x0a) stop--;
    for (;;) {
      // (lastIndexOf counts a negative offset from the end: never pass one.)
      const nl = stop === 0 ? -1 : buf.lastIndexOf(0x0a, stop - 1);
      if (nl === -1 && from > 0) break;
      const line = buf.subarray(nl + 1, stop);
      if (line.includes(CHECKPOINT_MARK)) {
        const parsed = parseRecordLine(line.toString("utf8"));
        if (parsed.record?.type === "checkpoint") return parsed.record;
      }
      if (nl === -1) break;
      stop = nl;
    }
    buf = buf.subarray(0, stop);
    carry = Buffer.from(buf);
    pos = from;
  }
  return undefined;
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
export function readChainTail(fd: number, end: number): ChainTail | { problem: string } {
  const lines: { text: string; parsed: Extract<ParsedRecordLine, { version: number }> }[] = [];
  let points = 0;
  let carry = Buffer.alloc(0);
  let pos = end;
  scan: while (pos > 0) {
    const from = Math.max(0, pos - TAIL_CHUNK);
    const buf = Buffer.concat([readAt(fd, from, pos - from), carry]);
    let stop = buf[buf.length - 1] === 0x0a ? buf.length - 1 : buf.length;
    for (;;) {
      const nl = stop === 0 ? -1 : buf.lastIndexOf(0x0a, stop - 1);
      if (nl === -1 && from > 0) break;
      const text = buf.toString("utf8", nl + 1, stop);
      const parsed = parseRecordLine(text);
      if (parsed.problem !== undefined) return problem(`line ending at byte ${pos} ${parsed.problem}`);
      lines.push({ text, parsed });
      if (parsed.version === 1 || isChainPoint(parsed.record)) points += parsed.version === 1 ? 2 : 1;
      if (points >= 2) break scan;
      if (nl === -1) break;
      stop = nl;
    }
    carry = Buffer.from(buf.subarray(0, stop));
    pos = from;
  }
  lines.reverse();
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let chain = new ChainHash(prevHash);
  let open = false;
  let openFrom = 0;
  for (let i = 0; i < lines.length; i++) {
    const { text, parsed } = lines[i]!;
    const r = parsed.record!;
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
    const first = i === 0;
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
      chain.update(Buffer.from(`${text}\n`, "utf8"));
    }
    seq = r.seq + 1;
  }
  return { seq, prevHash, open: open ? chain : undefined, openFrom };
}

const problem = (why: string) => ({ problem: why });
