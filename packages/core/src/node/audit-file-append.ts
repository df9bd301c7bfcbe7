// The sink's file writes: appending a group (all or nothing) and replacing the head file.
import { fdatasync, ftruncate, writev } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);

/** A backlog goes out in writes of at most this many bytes (and buffers), never as one huge write. */
const WRITE_BYTES = 1024 * 1024;
const WRITE_BUFFERS = 512;

/**
 * Appends `buffers` to `fd` (whose file is `size` bytes) and syncs them, in
 * writes of at most WRITE_BYTES; returns the bytes written. On failure cuts
 * the file back to `size`, so no partial group is left behind, and rethrows.
 */
export async function appendAll(fd: number, size: number, buffers: Buffer[], fsync: boolean): Promise<number> {
  let written = 0;
  try {
    for (let i = 0; i < buffers.length; ) {
      let j = i;
      let bytes = 0;
      while (j < buffers.length && j - i < WRITE_BUFFERS && (j === i || bytes + buffers[j]!.length <= WRITE_BYTES))
        bytes += buffers[j++]!.length;
      let left = buffers.slice(i, j);
      i = j;
      while (left.length > 0) {
        let n = (await writevAsync(fd, left)).bytesWritten;
        written += n;
        // A short write: drop what went out, keep the rest.
        let k = 0;
        while (k < left.length && n >= left[k]!.length) n -= left[k++]!.length;
        left = left.slice(k);
        if (n > 0) left[0] = left[0]!.subarray(n);
      }
    }
    if (fsync) await fdatasyncAsync(fd);
    return written;
  } catch (error) {
    if (written > 0) await ftruncateAsync(fd, size).catch(() => {});
    throw error;
  }
}

/** Replaces the head file with `text` (see `headFileText`) atomically (write a temporary file, rename it over). */
export async function writeHeadFile(headPath: string, text: string, fsync: boolean): Promise<void> {
  const tmp = `${headPath}.tmp`;
  await writeFile(tmp, text, { flush: fsync });
  await rename(tmp, headPath);
  if (fsync) {
    // Make the rename itself durable (not supported on every platform).
    try {
      const dir = await open(dirname(headPath), "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // Best effort.
    }
  }
}
