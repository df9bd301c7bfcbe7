// The sink's records between `write` and the disk: encoded into reused 64 KiB chunks, hashed as they are sealed,
// with the chain points (checkpoints, seals) that close each group.
import { encodeDecisionRecord, encodeRecord, recordRoom, type ChainHash } from "./audit-chain.js";
import { DecisionEncoder, NO_ROOM, UNSUPPORTED } from "./decision-encoder.js";

/** A checkpoint that made it to disk. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
}

/** A chain point queued with its canonical body and hash; a checkpoint is signed when its group is written. */
export interface PendingCheckpoint {
  seq: number;
  body: string;
  hash: string;
  at: string;
  /** A checkpoint (`false`: a seal). */
  signed: boolean;
}

/** Encoded lines, and the seq of the last record in them. */
interface Chunk {
  bytes: Buffer;
  lastSeq: number;
  /** Set when the chunk is a chain point's line (kept across a failed write). */
  point?: { line: string; at: AuditCheckpoint; signed: boolean };
}

export type QueueItem = Chunk | PendingCheckpoint;

/** A group ready to append. */
export interface Group {
  buffers: Buffer[];
  /** Seq of its last record (`undefined`: an empty group). */
  through: number | undefined;
  /** Its last signed checkpoint, as written. */
  checkpoint: { line: string; at: AuditCheckpoint } | undefined;
  /** Bytes of records in it, chain points aside (what counts against `maxBufferBytes`). */
  recordBytes: number;
  /** Chain points in it. */
  points: number;
}

/** Records are encoded straight into chunks of this size (bigger for a bigger record). */
const CHUNK_BYTES = 64 * 1024;
/**
 * Written chunks kept for reuse (4 MiB): a producer that does not yield between checks fills many chunks before
 * the first write completes, and a fresh 64 KiB buffer per chunk costs an allocation and GC pressure per 170 records.
 */
const SPARE_CHUNKS = 64;

/**
 * Records encoded in place into the current chunk (`buf` from `used`), and the
 * sealed chunks and pending chain points waiting for the next group commit, in
 * log order. Each chunk goes into the chain's hash when it is sealed.
 */
export class RecordQueue {
  items: QueueItem[] = [];
  readonly #chain: ChainHash;
  /** Current chunk: encoded records not yet queued for writing. */
  buf = Buffer.allocUnsafe(CHUNK_BYTES);
  used = 0;
  /** Written chunks, reused: a busy log allocates (and the GC frees) no new 64 KiB buffers. */
  #spare: Buffer<ArrayBuffer>[] = [];
  readonly #encoder = new DecisionEncoder();

  /** `chain`: the log's chain where it ends (over any records no chain point closes yet). */
  constructor(chain: ChainHash) {
    this.#chain = chain;
  }

  /**
   * Queues the current chunk's records (the last of them has seq `lastSeq`) and
   * starts a new chunk of at least `room` bytes.
   */
  seal(lastSeq: number, room = 0): void {
    if (this.used > 0) {
      const bytes = this.buf.subarray(0, this.used);
      this.#chain.update(bytes);
      this.items.push({ bytes, lastSeq });
      this.buf =
        (room <= CHUNK_BYTES ? this.#spare.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
      this.used = 0;
    } else if (room > this.buf.length) {
      this.buf = Buffer.allocUnsafe(room);
    }
  }

  /**
   * Encodes the record of `decision` at `seq` (with `args`, its arguments' JSON)
   * after the records before it; returns its bytes. The decision's JSON is
   * written straight into the chunk (no string per record), in a fresh chunk if
   * it did not fit; what the encoder leaves (a nested value, a record bigger
   * than a chunk, arguments) goes through `JSON.stringify`.
   */
  appendDecision(seq: number, decision: object, args: string | undefined): number {
    let used = this.used;
    let end = args === undefined ? encodeDecisionRecord(this.#encoder, this.buf, used, seq, decision) : UNSUPPORTED;
    if (end === NO_ROOM && used > 0) {
      this.seal(seq - 1);
      used = 0;
      end = encodeDecisionRecord(this.#encoder, this.buf, used, seq, decision);
    }
    if (end < 0) {
      const json = JSON.stringify(decision) as string | undefined;
      if (typeof json !== "string") throw new TypeError("JsonlAuditSink.write: decision has no JSON form");
      const room = recordRoom(json, args);
      if (this.used + room > this.buf.length) this.seal(seq - 1, room);
      used = this.used;
      end = encodeRecord(this.buf, used, seq, json, args);
    }
    this.used = end;
    return end - used;
  }

  /** Adds an encoded line after the records before it (the last of which has seq `lastSeq`). */
  appendLine(line: Buffer, lastSeq: number): void {
    if (this.used + line.length > this.buf.length) this.seal(lastSeq, line.length);
    line.copy(this.buf, this.used);
    this.used += line.length;
  }

  /**
   * Queues the chain point `body` at `seq` (after everything queued so far) and
   * returns it with its hash, which covers every record since the last one.
   */
  closeGroup(seq: number, body: string, at: string, signed: boolean): PendingCheckpoint {
    this.seal(seq - 1);
    const point: PendingCheckpoint = { seq, body, hash: this.#chain.close(body), at, signed };
    this.items.push(point);
    return point;
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
   * The bytes of `items`, each pending chain point turned into its line by `sign`
   * (and replaced in `items`, so a retry writes the same signature).
   */
  async encode(items: QueueItem[], sign: (checkpoint: PendingCheckpoint) => Promise<string>): Promise<Group> {
    const group: Group = { buffers: [], through: undefined, checkpoint: undefined, recordBytes: 0, points: 0 };
    for (let i = 0; i < items.length; i++) {
      let item = items[i]!;
      if (!("bytes" in item)) {
        const line = await sign(item);
        item = items[i] = {
          bytes: Buffer.from(`${line}\n`, "utf8"),
          lastSeq: item.seq,
          point: { line, at: { seq: item.seq, hash: item.hash, at: item.at }, signed: item.signed },
        };
      }
      group.buffers.push(item.bytes);
      group.through = item.lastSeq;
      if (item.point === undefined) group.recordBytes += item.bytes.length;
      else {
        group.points++;
        if (item.point.signed) group.checkpoint = item.point;
      }
    }
    return group;
  }

  /** Keeps the whole chunks of a written group for reuse. */
  recycle(items: QueueItem[]): void {
    for (const item of items) {
      const { bytes, point } = item as Chunk;
      if (
        bytes.byteOffset === 0 &&
        bytes.buffer.byteLength === CHUNK_BYTES &&
        this.#spare.length < SPARE_CHUNKS &&
        !point
      ) {
        this.#spare.push(Buffer.from(bytes.buffer as ArrayBuffer, 0, CHUNK_BYTES));
      }
    }
  }
}
