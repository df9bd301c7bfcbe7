import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Decision } from "../gate/decision.js";
import type { AuditEvent, AuditSink } from "../gate/gate-keeper.js";
import { appendAll, writeHeadFile } from "./audit-file-append.js";
import { AuditLogError } from "./audit-log-error.js";
import { ChainHash } from "./audit-chain.js";
import { BufferBound } from "./buffer-bound.js";
import { lockFile } from "./file-lock.js";
import { headFileText, noteWriterInHead, reopenReadLimit } from "./head-file.js";
import { sinkSettings, type JsonlAuditSinkOptions, type SinkSettings } from "./jsonl-audit-sink-options.js";
import { resumeAuditLog, type AuditLogOpenState } from "./open-audit-log.js";
import { RecordQueue, type AuditCheckpoint, type PendingCheckpoint } from "./record-queue.js";
import { chainPointBody, chainPointLine } from "./sink-checkpoints.js";

export type { JsonlAuditSinkOptions } from "./jsonl-audit-sink-options.js";
export type { AuditLogOpenState } from "./open-audit-log.js";
export type { AuditCheckpoint } from "./record-queue.js";

/** One group commit's promise: every `write` until the group is taken shares it. */
class Batch {
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  constructor() {
    this.promise = new Promise<void>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // Callers who ignore write()'s promise must not crash the process on a failed flush.
    this.promise.catch(() => {});
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A durable, tamper-evident audit log: append-only JSON Lines, one record per
 * line with its `seq`. Group commit: `write` encodes into a buffer, and a group
 * is written and `fdatasync`ed every `flushEvery` records or `flushIntervalMs`,
 * and on `flush()` / `close()`. Each group ends with a chain point whose SHA-256
 * covers the previous one's hash and the group's bytes (format v2: one hash per
 * group, not per record): a checkpoint signed with an Ed25519 key before it is
 * written, or without a signer a seal. Reopening a file (v1 or v2) continues
 * its chain, and never vouches for records no signature covers. One writer per
 * file, across processes and containers sharing the file system (a `mkdir` lock
 * with a heartbeat). Check a file with `verifyAuditLog`.
 *
 * @example
 * const sink = new JsonlAuditSink("audit.jsonl", { signer: auditKey });
 * const gate = new GateKeeper({ identity, policy, auditSinks: [sink] });
 * // ... on shutdown:
 * await gate.close();
 */
export class JsonlAuditSink implements AuditSink {
  /** Absolute path of the log. */
  readonly path: string;
  /** Path of the head file: the latest signed checkpoint, beside the log. */
  readonly headPath: string;
  /** What opening the file found (resume point, crash recovery). */
  readonly opened: AuditLogOpenState;

  readonly #fd: number;
  readonly #release: () => void;
  readonly #o: SinkSettings;
  readonly #bound: BufferBound;
  readonly #records: RecordQueue;

  #seq: number;
  /** Hash of the last chain point queued (or of the log's last line on open). */
  #prevHash: string;
  /** Bytes of the file known written; a failed append is cut back to it. */
  #size: number;
  #queuedRecords = 0;
  /** Seq of the first record not yet known to be on disk. */
  #durable: number;
  #batch: Batch | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  /** Records queued since the last queued chain point: the next group commit closes them with one. */
  #unsealed = 0;
  /** Chain points queued and not yet on disk (not records anyone wrote: `pending` leaves them out). */
  #pointsPending = 0;
  /** Records since the head file was last written, and when. */
  #sinceHead = 0;
  #lastHeadAt = 0;
  /** Seq of the checkpoint the head file names (-1: none). */
  #headSeq = -1;
  /** File size at the last head write: a reopen refuses a head that trails by its limit, so a quarter of it past, it is due. */
  #headEnd = 0;
  #forceHead = false;
  #lastCheckpoint: AuditCheckpoint | undefined;
  #lastCheckpointLine = "";
  /** This writer's `maxBufferBytes`, named in the head file when a reopen must read further back than by default. */
  #headSetting: number | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Set when another process took the lock over: nothing more is written. */
  #lockLost: Error | undefined;
  #failing = false;

  constructor(path: string, options: JsonlAuditSinkOptions = {}) {
    if (typeof path !== "string" || path === "") throw new TypeError("JsonlAuditSink: path must be a non-empty string");
    const o = (this.#o = sinkSettings(options));
    this.path = resolve(path);
    this.headPath = `${this.path}.head`;
    this.#bound = new BufferBound(this.path, o.maxBufferBytes, o.denyWhenFull);
    mkdirSync(dirname(this.path), { recursive: true });
    this.#release = lockFile(this.path, `${this.path}.lock`, {
      ...(o.lockStaleMs !== undefined ? { staleMs: o.lockStaleMs } : {}),
      onCompromised: (error) => {
        // Another process took the lock over (this one stalled past the stale time): writing on would fork the chain.
        this.#lockLost = error;
        o.warn(
          `audit log ${this.path}: lost its lock ${this.path}.lock (${message(error)}); no further records are written by this sink`,
        );
      },
    });
    let fd: number | undefined;
    try {
      // 0600 on create: audit records may carry (redacted) tool arguments.
      fd = openSync(this.path, "a+", 0o600);
      this.#fd = fd;
      const resumed = resumeAuditLog(fd, {
        path: this.path,
        headPath: this.headPath,
        key: o.key,
        fsync: o.fsync,
        warn: o.warn,
        readLimit: reopenReadLimit(o.maxBufferBytes),
      });
      this.#seq = resumed.seq;
      this.#durable = resumed.seq;
      this.#prevHash = resumed.prevHash;
      this.#size = resumed.size;
      this.#headSeq = resumed.headSeq;
      this.opened = resumed.state;
      this.#records = new RecordQueue(resumed.open?.hash ?? new ChainHash(resumed.prevHash));
      this.#unsealed = resumed.open?.records ?? 0;
      this.#headSetting = noteWriterInHead(this.headPath, resumed.head, o.maxBufferBytes, o.fsync);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      this.#release();
      throw error;
    }
    if (o.signer) this.#closeGroup(Date.now());
  }

  /** Records accepted but not yet on disk. */
  get pending(): number {
    return this.#seq - this.#durable - this.#pointsPending;
  }

  /** The latest checkpoint written to the log, if any was written by this sink. */
  get lastCheckpoint(): AuditCheckpoint | undefined {
    return this.#lastCheckpoint;
  }

  /** True once `close()` was called: writes are refused. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes of records accepted but not yet on disk (at most `maxBufferBytes` plus one record). */
  get bufferedBytes(): number {
    return this.#bound.pendingBytes;
  }

  /** Records not written because the buffer was full (or the lock was lost). */
  get dropped(): number {
    return this.#bound.dropped;
  }

  /**
   * With `onBufferFull: "deny"` (the default), why the sink cannot take records
   * now (its buffer is full, or another process took its lock); `undefined`
   * otherwise. The gate reads it and DENYs while it is set.
   */
  get unavailable(): string | undefined {
    return this.#bound.unavailable(this.#lockLost !== undefined);
  }

  /**
   * Appends one decision (and, with `includeArgs`, its redacted arguments) to the
   * chain. Returns at once; the promise resolves when the record's group is on
   * disk and rejects if writing it failed (the gate reports that through
   * `onAuditError`; the record stays buffered and is retried).
   */
  write(decision: Decision, event?: AuditEvent): Promise<void> {
    if (this.#closed)
      throw new AuditLogError(this.path, `audit log ${this.path} is closed; decision ${decision?.id} was not written`);
    if (typeof decision !== "object" || decision === null)
      throw new TypeError("JsonlAuditSink.write: decision must be a Decision");
    const bound = this.#bound;
    if (bound.full || this.#lockLost) return bound.drop(decision, this.#lockLost !== undefined);
    if (bound.unnoted > 0) this.#noteDropped();
    const seq = this.#seq;
    const redactor = this.#o.redactor;
    const args = redactor !== undefined && event?.args !== undefined ? redactor.toJson(event.args) : undefined;
    // No canonical form or hash per record (format v2): the group's chain point hashes the bytes as written.
    bound.pendingBytes += this.#records.appendDecision(seq, decision, args);
    this.#seq = seq + 1;
    this.#unsealed++;
    this.#sinceHead++;
    let batch = this.#batch;
    if (batch === undefined) {
      batch = this.#batch = new Batch();
      this.#timer ??= setTimeout(this.#onTimer, this.#o.flushIntervalMs);
    }
    // Once per group: while a drain is queued it takes these records too (a request per record allocated a promise each).
    if (++this.#queuedRecords >= this.#o.flushEvery && this.#queued === undefined) this.#requestDrain().catch(() => {});
    return batch.promise;
  }

  /** Before the first record after a gap: a `recovery` record that says how many were dropped. */
  #noteDropped(): void {
    const line = this.#bound.noteDropped(this.#seq);
    this.#records.appendLine(line, this.#seq - 1);
    this.#bound.pendingBytes += line.length;
    this.#seq += 1;
    this.#unsealed++;
    this.#sinceHead++;
  }

  /** Writes and syncs everything accepted so far. Rejects if that fails (the records stay buffered). */
  flush(): Promise<void> {
    if (this.#closing) return this.#closing;
    return this.#requestDrain();
  }

  /** Flushes (signing what it writes) and brings the head file up to date now (no-op without a signer). */
  checkpoint(): Promise<void> {
    this.#forceHead = true;
    return this.flush();
  }

  /**
   * Flushes, signs a final checkpoint, and closes the file. Later writes throw.
   * If the final flush fails, `close()` rejects and can be called again to retry.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#forceHead = true;
    const closing = this.#requestDrain().then(() => {
      this.#clearTimers();
      closeSync(this.#fd);
      this.#release();
    });
    this.#closing = closing.catch((error: unknown) => {
      this.#closing = undefined;
      throw error;
    });
    return this.#closing;
  }

  // --- group commit -------------------------------------------------------------

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#requestDrain().catch(() => {});
  };

  /** At most one drain waits behind the running one; it takes whatever is queued when it starts. */
  #requestDrain(): Promise<void> {
    if (this.#queued) return this.#queued;
    const next = this.#running.then(() => {
      this.#queued = undefined;
      return this.#drain();
    });
    this.#queued = next;
    this.#running = next.catch(() => {});
    return next;
  }

  /** Ends the group with a chain point: a checkpoint with a signer, a seal without. */
  #closeGroup(now: number): void {
    const { signer, key } = this.#o;
    const at = new Date(now).toISOString();
    const body = chainPointBody(signer && { identity: signer, key: key! }, this.#seq, this.#prevHash, at);
    this.#prevHash = this.#records.closeGroup(this.#seq, body, at, signer !== undefined).hash;
    this.#seq += 1;
    this.#unsealed = 0;
    this.#pointsPending++;
  }

  readonly #sign = (point: PendingCheckpoint): Promise<string> =>
    chainPointLine(this.#o.signer, point, (error) =>
      this.#o.warn(`audit log ${this.path}: signing checkpoint seq ${point.seq} failed: ${message(error)}`),
    );

  async #drain(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const bound = this.#bound;
    // Drops not yet counted in the log (no record came after them): count them now, within the bound (or on close).
    if (bound.unnoted > 0 && (this.#closed || !bound.full)) this.#noteDropped();
    this.#records.seal(this.#seq - 1);
    const now = Date.now();
    // Every group commit ends with a chain point whose hash covers its records, written with them; with a
    // signer it is a checkpoint, signed before it is written: whatever reaches the disk is under a signature.
    if (this.#unsealed > 0) this.#closeGroup(now);
    const headDue =
      this.#forceHead ||
      this.#sinceHead >= this.#o.checkpointEvery ||
      now - this.#lastHeadAt >= this.#o.checkpointIntervalMs;
    this.#forceHead = false;
    const items = this.#records.take();
    const batch = this.#batch;
    this.#queuedRecords = 0;
    this.#batch = undefined;
    try {
      if (this.#lockLost) throw new Error(`the lock ${this.path}.lock was lost to another process`);
      const group = await this.#records.encode(items, this.#sign);
      if (group.buffers.length > 0) this.#size += await appendAll(this.#fd, this.#size, group.buffers, this.#o.fsync);
      this.#records.recycle(items);
      if (group.through !== undefined) this.#durable = group.through + 1;
      bound.pendingBytes -= group.recordBytes;
      this.#pointsPending -= group.points;
      bound.lastError = undefined;
      if (group.checkpoint) {
        this.#lastCheckpoint = group.checkpoint.at;
        this.#lastCheckpointLine = group.checkpoint.line;
      }
      this.#failing = false;
      batch?.resolve();
    } catch (cause) {
      // Nothing of this group is on disk (appendAll cuts a partial write back): retry all of it.
      this.#records.restore(items);
      this.#queuedRecords = 0;
      bound.lastError = message(cause);
      const error = new AuditLogError(
        this.path,
        `could not write ${this.pending} audit record(s) to ${this.path}: ${message(cause)}; they stay buffered and are retried`,
        { cause },
      );
      if (batch) batch.reject(error);
      else if (!this.#failing) this.#o.warn(error.message);
      this.#failing = true;
      this.#armRetry();
      throw error;
    }
    // The head file trails the log (written after the records it names are synced): a crash leaves it older, never ahead.
    const behind = this.#size - this.#headEnd >= reopenReadLimit(this.#o.maxBufferBytes) / 4;
    if ((headDue || behind) && this.#lastCheckpoint !== undefined && this.#lastCheckpoint.seq > this.#headSeq) {
      try {
        await writeHeadFile(this.headPath, headFileText(this.#lastCheckpointLine, this.#headSetting), this.#o.fsync);
        this.#headSeq = this.#lastCheckpoint.seq;
        this.#headEnd = this.#size;
        this.#sinceHead = 0;
        this.#lastHeadAt = now;
      } catch (error) {
        this.#o.warn(
          `audit log ${this.path}: could not update the head file ${this.headPath}: ${message(error)}; retried with the next group`,
        );
      }
    }
    this.#armCheckpointTimer();
  }

  #armRetry(): void {
    if (this.#retryTimer !== undefined || this.#closed) return;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        if (this.#records.items.length > 0) this.#requestDrain().catch(() => {});
      },
      Math.max(this.#o.flushIntervalMs, 1000),
    );
    this.#retryTimer.unref();
  }

  /** Brings the head file up to date within checkpointIntervalMs when no further group comes. */
  #armCheckpointTimer(): void {
    if (!this.#o.signer || this.#closed || this.#checkpointTimer !== undefined) return;
    if (this.#lastCheckpoint === undefined || this.#lastCheckpoint.seq <= this.#headSeq) return;
    const delay = Math.max(0, this.#lastHeadAt + this.#o.checkpointIntervalMs - Date.now());
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointTimer = undefined;
      this.#requestDrain().catch(() => {});
    }, delay);
    this.#checkpointTimer.unref();
  }

  #clearTimers(): void {
    for (const t of [this.#timer, this.#retryTimer, this.#checkpointTimer]) if (t !== undefined) clearTimeout(t);
    this.#timer = this.#retryTimer = this.#checkpointTimer = undefined;
  }
}
