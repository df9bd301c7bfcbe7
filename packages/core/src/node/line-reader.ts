import { open } from "node:fs/promises";

/** One line of a file, without its `\n`. */
export interface RawLine {
  /** 1-based line number. */
  line: number;
  /** The line's bytes: a view into the reader's buffer, valid until the next batch is asked for. */
  bytes: Buffer;
  /** False for a last line with no `\n` after it (a torn write, or a file being written). */
  terminated: boolean;
}

const CHUNK = 1 << 20;
const NL = 0x0a;

/**
 * Streams the lines of a file in constant memory (plus the longest line), one
 * batch per read: one await per megabyte instead of one per line.
 */
export async function* readLineBatches(path: string): AsyncGenerator<RawLine[]> {
  const handle = await open(path, "r");
  try {
    let line = 0;
    let carry: Buffer[] = [];
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const batch: RawLine[] = [];
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(NL, start);
        if (nl === -1 || nl >= bytesRead) break;
        const piece = chunk.subarray(start, nl);
        // A line begun in an earlier read was copied out of the buffer before it was reused.
        const bytes = carry.length === 0 ? piece : Buffer.concat([...carry, piece]);
        carry = [];
        batch.push({ line: ++line, bytes, terminated: true });
        start = nl + 1;
      }
      if (batch.length > 0) yield batch;
      if (start < bytesRead) carry.push(Buffer.from(chunk.subarray(start, bytesRead)));
    }
    if (carry.length > 0) yield [{ line: ++line, bytes: Buffer.concat(carry), terminated: false }];
  } finally {
    await handle.close();
  }
}
