import { open } from "node:fs/promises";

/** One line of a file, without its `\n`. */
export interface RawLine {
  /** 1-based line number. */
  line: number;
  bytes: Buffer;
  /** False for a last line with no `\n` after it (a torn write, or a file being written). */
  terminated: boolean;
}

const CHUNK = 1 << 20;
const NL = 0x0a;

/** Streams the lines of a file in constant memory (plus the longest line). */
export async function* readLines(path: string): AsyncGenerator<RawLine> {
  const handle = await open(path, "r");
  try {
    let line = 0;
    let carry: Buffer[] = [];
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, null);
      if (bytesRead === 0) break;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(NL, start);
        if (nl === -1 || nl >= bytesRead) break;
        const piece = Buffer.from(chunk.subarray(start, nl));
        const bytes = carry.length === 0 ? piece : Buffer.concat([...carry, piece]);
        carry = [];
        yield { line: ++line, bytes, terminated: true };
        start = nl + 1;
      }
      if (start < bytesRead) carry.push(Buffer.from(chunk.subarray(start, bytesRead)));
    }
    if (carry.length > 0) yield { line: ++line, bytes: Buffer.concat(carry), terminated: false };
  } finally {
    await handle.close();
  }
}
