import { readSync } from "node:fs";
import { parseRecordLine, type CheckpointRecord } from "./audit-record.js";

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
