// The sink's records between `write` and the disk: encoded into reused 64 KiB chunks, with the checkpoints that sign them.

/** A checkpoint that made it to disk. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
}

/** A checkpoint queued with its canonical body and hash, signed when its group is written. */
export interface PendingCheckpoint {
  seq: number;
  body: string;
  hash: string;
  at: string;
}

/** Encoded lines, and the seq of the last record in them. */
interface Chunk {
  bytes: Buffer;
  lastSeq: number;
  /** Set when the chunk is a signed checkpoint line (kept across a failed write). */
  checkpoint?: { line: string; at: AuditCheckpoint };
}

export type QueueItem = Chunk | PendingCheckpoint;

/** A group ready to append. */
export interface Group {
  buffers: Buffer[];
  /** Seq of its last record (`undefined`: an empty group). */
  through: number | undefined;
  /** Its last checkpoint, as written. */
  checkpoint: Chunk["checkpoint"];
  /** Bytes of records in it, checkpoints aside (what counts against `maxBufferBytes`). */
  recordBytes: number;
}

/** Records are encoded straight into chunks of this size (bigger for a bigger record). */
const CHUNK_BYTES = 64 * 1024;
/** Written chunks kept for reuse. */
const SPARE_CHUNKS = 16;

/**
 * Records encoded in place into the current chunk (`buf` from `used`), and the
 * sealed chunks and pending checkpoints waiting for the next group commit, in
 * log order.
 */
export class RecordQueue {
  items: QueueItem[] = [];
  /** Current chunk: encoded records not yet queued for writing. */
  buf = Buffer.allocUnsafe(CHUNK_BYTES);
  used = 0;
  /** Written chunks, reused: a busy log allocates (and the GC frees) no new 64 KiB buffers. */
  #spare: Buffer<ArrayBuffer>[] = [];

  /**
   * Queues the current chunk's records (the last of them has seq `lastSeq`) and
   * starts a new chunk of at least `room` bytes.
   */
  seal(lastSeq: number, room = 0): void {
    if (this.used > 0) {
      this.items.push({ bytes: this.buf.subarray(0, this.used), lastSeq });
      this.buf =
        (room <= CHUNK_BYTES ? this.#spare.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
      this.used = 0;
    } else if (room > this.buf.length) {
      this.buf = Buffer.allocUnsafe(room);
    }
  }

  /** Adds an encoded line after the records before it (the last of which has seq `lastSeq`). */
  appendLine(line: Buffer, lastSeq: number): void {
    if (this.used + line.length > this.buf.length) this.seal(lastSeq, line.length);
    line.copy(this.buf, this.used);
    this.used += line.length;
  }

  /** Takes everything queued (seal first), leaving the queue empty. */
  take(): QueueItem[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  /** Puts back a group that could not be written, before anything queued since. */
  restore(items: QueueItem[]): void {
    this.items = items.concat(this.items);
  }

  /**
   * The bytes of `items`, each pending checkpoint turned into its line by `sign`
   * (and replaced in `items`, so a retry writes the same signature).
   */
  async encode(items: QueueItem[], sign: (checkpoint: PendingCheckpoint) => Promise<string>): Promise<Group> {
    const group: Group = { buffers: [], through: undefined, checkpoint: undefined, recordBytes: 0 };
    for (let i = 0; i < items.length; i++) {
      let item = items[i]!;
      if (!("bytes" in item)) {
        const line = await sign(item);
        item = items[i] = {
          bytes: Buffer.from(`${line}\n`, "utf8"),
          lastSeq: item.seq,
          checkpoint: { line, at: { seq: item.seq, hash: item.hash, at: item.at } },
        };
      }
      group.buffers.push(item.bytes);
      group.through = item.lastSeq;
      if (item.checkpoint) group.checkpoint = item.checkpoint;
      else group.recordBytes += item.bytes.length;
    }
    return group;
  }

  /** Keeps the whole chunks of a written group for reuse. */
  recycle(items: QueueItem[]): void {
    for (const item of items) {
      const { bytes, checkpoint } = item as Chunk;
      if (
        bytes.byteOffset === 0 &&
        bytes.buffer.byteLength === CHUNK_BYTES &&
        this.#spare.length < SPARE_CHUNKS &&
        !checkpoint
      ) {
        this.#spare.push(Buffer.from(bytes.buffer as ArrayBuffer, 0, CHUNK_BYTES));
      }
    }
  }
}
