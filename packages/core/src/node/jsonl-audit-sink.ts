import { closeSync, fdatasync, ftruncate, mkdirSync, openSync, writev } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { promisify } from "node:util";
import type { Decision } from "../gate/decision.js";
import type { AuditEvent, AuditSink } from "../gate/gate-keeper.js";
import { canonicalJson } from "../gate/fingerprint.js";
import type { AgentIdentity, JsonWebKey } from "../identity/agent-identity.js";
import { AuditLogError } from "./audit-log-error.js";
import {
  chainHash,
  checkpointMessage,
  decisionJson,
  decisionRecordRoom,
  encodeDecisionRecord,
  recordLine,
} from "./audit-record.js";
import { lockFile } from "./file-lock.js";
import { resumeAuditLog, type AuditLogOpenState } from "./open-audit-log.js";
import { ArgsRedactor } from "./redact.js";

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);

export interface JsonlAuditSinkOptions {
  /**
   * An Ed25519 identity (the agent's, or a dedicated audit key) that signs
   * checkpoints: one when the file is opened and one at the end of every group
   * commit, written with the records it covers (one signature per batch, not
   * per record), so every record that reaches the disk is under a signature.
   * Without it the hash chain still shows edits, but truncation and re-chaining
   * by someone with write access do not.
   */
  signer?: AgentIdentity;
  /** Write each check's arguments (tool input), secret-looking keys and values redacted. Default false. */
  includeArgs?: boolean;
  /** Extra argument keys to redact (strings match whole keys case-insensitively; RegExps are tested). */
  redactKeys?: readonly (string | RegExp)[];
  /** Longer arguments (canonical JSON characters) are replaced by their length and SHA-256. Default 65 536. */
  maxArgsLength?: number;
  /** Group commit: flush when this many records are buffered. Default 1000. */
  flushEvery?: number;
  /** Group commit: flush at most this long after a record is buffered. Default 100 ms. */
  flushIntervalMs?: number;
  /** Refresh the head file (the truncation anchor: the latest signed checkpoint, beside the log) after this many records. Default 10 000. */
  checkpointEvery?: number;
  /** Refresh the head file at least this often while records arrive. Default 5 000 ms. */
  checkpointIntervalMs?: number;
  /** `fdatasync` after each group (default true). Turn off only where power loss does not matter (tests). */
  fsync?: boolean;
  /** Where recoveries and background write failures are reported. Default `console.warn`. */
  onWarning?: (message: string) => void;
  /**
   * The lock (`<file>.lock`, a directory whose mtime a heartbeat refreshes every
   * half of this) is stale, and taken over, once not refreshed for this long.
   * Default 10 000 ms, minimum 2 000.
   */
  lockStaleMs?: number;
  /**
   * Most bytes of records held in memory before they are on disk (a full or
   * slow disk, a producer that never yields). Default 16 MiB. At the bound,
   * `onBufferFull` decides.
   */
  maxBufferBytes?: number;
  /**
   * What happens at `maxBufferBytes`. `"deny"` (default, fail closed): the sink
   * reports itself `unavailable`, so the gate turns each ALLOW into a DENY
   * ("audit unavailable: ...") until the backlog is written. `"drop"`: decisions
   * go on, and records that do not fit are dropped, counted (`dropped`) and
   * reported through the gate's `onAuditError`. Either way, records that were
   * not written are counted in a `recovery` record once writing resumes.
   */
  onBufferFull?: "deny" | "drop";
}

export type { AuditLogOpenState } from "./open-audit-log.js";

/** A checkpoint that made it to disk. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
}

interface PendingCheckpoint {
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

type Item = Chunk | PendingCheckpoint;

/** Records are encoded straight into chunks of this size (bigger for a bigger record). */
const CHUNK_BYTES = 64 * 1024;
/** Written chunks kept for reuse. */
const SPARE_CHUNKS = 16;
/** A backlog goes out in writes of at most this many bytes (and buffers), never as one huge write. */
const WRITE_BYTES = 1024 * 1024;
const WRITE_BUFFERS = 512;

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

function positiveInt(value: number | undefined, name: string, dflt: number, min = 1): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min)
    throw new TypeError(`JsonlAuditSink: ${name} must be an integer >= ${min}`);
  return value;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A durable, tamper-evident audit log: append-only JSON Lines, one record per
 * line, each with `seq`, `prevHash` and `hash` (SHA-256 over `prevHash` and the
 * record's canonical JSON), and checkpoints signed with an Ed25519 key. Group
 * commit: `write` buffers, a group is written and `fdatasync`ed every
 * `flushEvery` records or `flushIntervalMs`, and on `flush()` / `close()`;
 * with a signer, each group ends with a checkpoint signed before it is
 * written. Reopening a file continues its chain, and never vouches for records
 * no signature covers. One writer per file, across processes and containers
 * sharing the file system (a `mkdir` lock with a heartbeat). Check a file with
 * `verifyAuditLog`.
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
  readonly #signer: AgentIdentity | undefined;
  readonly #key: JsonWebKey | undefined;
  readonly #redactor: ArgsRedactor | undefined;
  readonly #flushEvery: number;
  readonly #flushIntervalMs: number;
  readonly #checkpointEvery: number;
  readonly #checkpointIntervalMs: number;
  readonly #fsync: boolean;
  readonly #warn: (message: string) => void;
  readonly #maxBuffer: number;
  readonly #denyWhenFull: boolean;
  /** Bytes of records accepted and not yet on disk. */
  #pendingBytes = 0;
  #dropped = 0;
  /** The rejection returned for every drop since the last `recovery` record. */
  #dropping: Promise<void> | undefined;
  /** Dropped since the last `recovery` record that counts them. */
  #unnoted = 0;
  /** Why the last group commit failed (cleared by the next one that succeeds). */
  #lastError: string | undefined;

  #seq: number;
  #prevHash: string;
  /** Bytes of the file known written; a failed append is cut back to it. */
  #size: number;
  #queue: Item[] = [];
  #queuedRecords = 0;
  /** Current chunk: encoded records not yet queued for writing. */
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  /** Written chunks, reused: a busy log allocates (and the GC frees) no new 64 KiB buffers. */
  #spare: Buffer<ArrayBuffer>[] = [];
  #used = 0;
  /** Seq of the first record not yet known to be on disk. */
  #durable: number;
  #batch: Batch | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  /** Records queued since the last queued checkpoint: the next group commit signs them. */
  #unsignedRecords = 0;
  /** Records since the head file was last written, and when. */
  #sinceHead = 0;
  #lastHeadAt = 0;
  /** Seq of the checkpoint the head file names (-1: none). */
  #headSeq = -1;
  #forceHead = false;
  #lastCheckpoint: AuditCheckpoint | undefined;
  #lastCheckpointLine = "";
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Set when another process took the lock over: nothing more is written. */
  #lockLost: Error | undefined;
  #failing = false;

  constructor(path: string, options: JsonlAuditSinkOptions = {}) {
    if (typeof path !== "string" || path === "") throw new TypeError("JsonlAuditSink: path must be a non-empty string");
    if (typeof options !== "object" || options === null)
      throw new TypeError("JsonlAuditSink: options must be an object");
    this.#flushEvery = positiveInt(options.flushEvery, "flushEvery", 1000);
    this.#flushIntervalMs = positiveInt(options.flushIntervalMs, "flushIntervalMs", 100, 0);
    this.#checkpointEvery = positiveInt(options.checkpointEvery, "checkpointEvery", 10_000);
    this.#checkpointIntervalMs = positiveInt(options.checkpointIntervalMs, "checkpointIntervalMs", 5_000, 0);
    this.#fsync = options.fsync ?? true;
    this.#maxBuffer = positiveInt(options.maxBufferBytes, "maxBufferBytes", 16 * 1024 * 1024, 4096);
    if (options.onBufferFull !== undefined && options.onBufferFull !== "deny" && options.onBufferFull !== "drop") {
      throw new TypeError('JsonlAuditSink: onBufferFull must be "deny" or "drop"');
    }
    this.#denyWhenFull = options.onBufferFull !== "drop";
    this.#warn = options.onWarning ?? ((m) => console.warn(`[agentgate] ${m}`));
    this.#redactor = options.includeArgs ? new ArgsRedactor(options) : undefined;
    const signer = options.signer;
    if (signer !== undefined) {
      const key = signer.algorithm === "Ed25519" ? signer.publicKeyJwk() : undefined;
      if (!key)
        throw new TypeError(
          'JsonlAuditSink: signer must be an Ed25519 AgentIdentity (create it with { algorithm: "Ed25519" })',
        );
      this.#signer = signer;
      this.#key = { kty: "OKP", crv: "Ed25519", x: key.x };
    }

    this.path = resolve(path);
    this.headPath = `${this.path}.head`;
    mkdirSync(dirname(this.path), { recursive: true });
    this.#release = lockFile(this.path, `${this.path}.lock`, {
      ...(options.lockStaleMs !== undefined
        ? { staleMs: positiveInt(options.lockStaleMs, "lockStaleMs", 10_000) }
        : {}),
      onCompromised: (error) => {
        // Another process took the lock over (this one stalled past the stale time): writing on would fork the chain.
        this.#lockLost = error;
        this.#warn(
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
        key: this.#key,
        fsync: this.#fsync,
        warn: this.#warn,
      });
      this.#seq = resumed.seq;
      this.#durable = resumed.seq;
      this.#prevHash = resumed.prevHash;
      this.#size = resumed.size;
      this.#headSeq = resumed.headSeq;
      this.opened = resumed.state;
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      this.#release();
      throw error;
    }
    if (this.#signer) this.#enqueueCheckpoint(Date.now());
  }

  /** Records accepted but not yet on disk. */
  get pending(): number {
    return this.#seq - this.#durable;
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
    return this.#pendingBytes;
  }

  /** Records not written because the buffer was full (or the lock was lost). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * With `onBufferFull: "deny"` (the default), why the sink cannot take records
   * now (its buffer is full, or another process took its lock); `undefined`
   * otherwise. The gate reads it and DENYs while it is set.
   */
  get unavailable(): string | undefined {
    if (!this.#denyWhenFull) return undefined;
    if (this.#lockLost) return `audit log ${this.path} lost its lock to another process`;
    if (this.#pendingBytes < this.#maxBuffer) return undefined;
    return `audit log ${this.path} holds ${this.#pendingBytes} bytes of records not yet written (maxBufferBytes ${this.#maxBuffer})${this.#lastError ? `: ${this.#lastError}` : ""}`;
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
    if (this.#pendingBytes >= this.#maxBuffer || this.#lockLost) return this.#drop(decision);
    if (this.#unnoted > 0) this.#noteDropped();
    const seq = this.#seq;
    const prev = this.#prevHash;
    const args =
      this.#redactor !== undefined && event?.args !== undefined ? this.#redactor.toJson(event.args) : undefined;
    const json = decisionJson(decision);
    const room = decisionRecordRoom(json, args);
    if (this.#used + room > this.#chunk.length) this.#seal(room);
    const used = this.#used;
    const { end, hash } = encodeDecisionRecord(this.#chunk, used, seq, prev, json, args);
    this.#used = end;
    this.#pendingBytes += end - used;
    this.#seq = seq + 1;
    this.#prevHash = hash;
    this.#unsignedRecords++;
    this.#sinceHead++;
    let batch = this.#batch;
    if (batch === undefined) {
      batch = this.#batch = new Batch();
      this.#timer ??= setTimeout(this.#onTimer, this.#flushIntervalMs);
    }
    if (++this.#queuedRecords >= this.#flushEvery) this.#requestDrain().catch(() => {});
    return batch.promise;
  }

  /**
   * A record that does not fit: counted, reported (the gate passes the rejection to `onAuditError`), never buffered.
   * One run of drops shares one rejected promise (naming its first decision): a producer that never yields
   * would otherwise pile up an error and a rejection job per refused record, unbounded.
   */
  #drop(decision: Decision): Promise<void> {
    this.#dropped++;
    this.#unnoted++;
    if (this.#dropping !== undefined) return this.#dropping;
    const why = this.#lockLost
      ? `lost its lock to another process`
      : `the buffer is full (${this.#pendingBytes} bytes not yet written, maxBufferBytes ${this.#maxBuffer}${this.#lastError ? `; ${this.#lastError}` : ""})`;
    const error = new AuditLogError(
      this.path,
      `audit log ${this.path}: ${why}; decision ${decision.id} was not written (${this.#dropped} dropped so far)`,
    );
    const rejected = Promise.reject(error);
    rejected.catch(() => {});
    this.#dropping = rejected;
    return rejected;
  }

  /** Before the first record after a gap: a `recovery` record that says how many were dropped. */
  #noteDropped(): void {
    this.#dropping = undefined;
    const body = canonicalJson({
      at: new Date().toISOString(),
      dropped: this.#unnoted,
      prevHash: this.#prevHash,
      seq: this.#seq,
      type: "recovery",
    });
    const hash = chainHash(this.#prevHash, body);
    const line = Buffer.from(`${recordLine(body, hash)}\n`, "utf8");
    if (this.#used + line.length > this.#chunk.length) this.#seal(line.length);
    line.copy(this.#chunk, this.#used);
    this.#used += line.length;
    this.#pendingBytes += line.length;
    this.#seq += 1;
    this.#prevHash = hash;
    this.#unsignedRecords++;
    this.#sinceHead++;
    this.#unnoted = 0;
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

  /** Queues the current chunk's records for writing and starts a new chunk (of at least `room` bytes). */
  #seal(room = 0): void {
    if (this.#used > 0) {
      this.#queue.push({ bytes: this.#chunk.subarray(0, this.#used), lastSeq: this.#seq - 1 });
      this.#chunk =
        (room <= CHUNK_BYTES ? this.#spare.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
      this.#used = 0;
    } else if (room > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafe(room);
    }
  }

  #enqueueCheckpoint(now: number): void {
    this.#seal();
    const signer = this.#signer!;
    const at = new Date(now).toISOString();
    const body = canonicalJson({
      at,
      key: this.#key,
      prevHash: this.#prevHash,
      seq: this.#seq,
      signer: { id: signer.id, name: signer.name },
      type: "checkpoint",
    });
    const hash = chainHash(this.#prevHash, body);
    this.#queue.push({ seq: this.#seq, body, hash, at });
    this.#seq += 1;
    this.#prevHash = hash;
    this.#unsignedRecords = 0;
  }

  async #drain(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // Drops not yet counted in the log (no record came after them): count them now, within the bound (or on close).
    if (this.#unnoted > 0 && (this.#closed || this.#pendingBytes < this.#maxBuffer)) this.#noteDropped();
    this.#seal();
    const now = Date.now();
    // Every group commit ends with a checkpoint, signed before it is written and written
    // with the records it covers: whatever reaches the disk is under a signature.
    if (this.#signer && this.#unsignedRecords > 0) this.#enqueueCheckpoint(now);
    const headDue =
      this.#forceHead ||
      this.#sinceHead >= this.#checkpointEvery ||
      now - this.#lastHeadAt >= this.#checkpointIntervalMs;
    this.#forceHead = false;
    const items = this.#queue;
    const batch = this.#batch;
    this.#queue = [];
    this.#queuedRecords = 0;
    this.#batch = undefined;
    try {
      if (this.#lockLost) throw new Error(`the lock ${this.path}.lock was lost to another process`);
      const out: Buffer[] = [];
      let through = this.#durable - 1;
      let last: Chunk["checkpoint"];
      let recordBytes = 0;
      for (let i = 0; i < items.length; i++) {
        let item = items[i]!;
        if (!("bytes" in item)) {
          const line = await this.#checkpointLine(item);
          item = items[i] = {
            bytes: Buffer.from(`${line}\n`, "utf8"),
            lastSeq: item.seq,
            checkpoint: { line, at: { seq: item.seq, hash: item.hash, at: item.at } },
          };
        }
        out.push(item.bytes);
        through = item.lastSeq;
        if (item.checkpoint) last = item.checkpoint;
        else recordBytes += item.bytes.length;
      }
      if (out.length > 0) await this.#append(out);
      for (const item of items) {
        const { bytes } = item as Chunk;
        if (
          bytes.byteOffset === 0 &&
          bytes.buffer.byteLength === CHUNK_BYTES &&
          this.#spare.length < SPARE_CHUNKS &&
          !(item as Chunk).checkpoint
        ) {
          this.#spare.push(Buffer.from(bytes.buffer as ArrayBuffer, 0, CHUNK_BYTES));
        }
      }
      this.#durable = through + 1;
      this.#pendingBytes -= recordBytes;
      this.#lastError = undefined;
      if (last) {
        this.#lastCheckpoint = last.at;
        this.#lastCheckpointLine = last.line;
      }
      this.#failing = false;
      batch?.resolve();
    } catch (cause) {
      // Nothing of this group is on disk (#append cuts a partial write back): retry all of it.
      this.#queue = items.concat(this.#queue);
      this.#queuedRecords = 0;
      this.#lastError = message(cause);
      const error = new AuditLogError(
        this.path,
        `could not write ${this.pending} audit record(s) to ${this.path}: ${message(cause)}; they stay buffered and are retried`,
        { cause },
      );
      if (batch) batch.reject(error);
      else if (!this.#failing) this.#warn(error.message);
      this.#failing = true;
      this.#armRetry();
      throw error;
    }
    // The head file trails the log (written after the records it names are synced): a crash leaves it older, never ahead.
    if (headDue && this.#lastCheckpoint !== undefined && this.#lastCheckpoint.seq > this.#headSeq) {
      try {
        await this.#writeHead(this.#lastCheckpointLine);
        this.#headSeq = this.#lastCheckpoint.seq;
        this.#sinceHead = 0;
        this.#lastHeadAt = now;
      } catch (error) {
        this.#warn(
          `audit log ${this.path}: could not update the head file ${this.headPath}: ${message(error)}; retried with the next group`,
        );
      }
    }
    this.#armCheckpointTimer();
  }

  async #checkpointLine(item: PendingCheckpoint): Promise<string> {
    let sig = "";
    try {
      sig = await this.#signer!.sign(checkpointMessage(item.hash));
    } catch (error) {
      // The line must exist for the chain to continue; an empty signature shows up in verification.
      this.#warn(`audit log ${this.path}: signing checkpoint seq ${item.seq} failed: ${message(error)}`);
    }
    return recordLine(item.body, item.hash, sig);
  }

  /** Appends and syncs, in writes of at most WRITE_BYTES; on failure cuts the file back to where it was. */
  async #append(buffers: Buffer[]): Promise<void> {
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
          let n = (await writevAsync(this.#fd, left)).bytesWritten;
          written += n;
          // A short write: drop what went out, keep the rest.
          let k = 0;
          while (k < left.length && n >= left[k]!.length) n -= left[k++]!.length;
          left = left.slice(k);
          if (n > 0) left[0] = left[0]!.subarray(n);
        }
      }
      if (this.#fsync) await fdatasyncAsync(this.#fd);
      this.#size += written;
    } catch (error) {
      // Leave no partial group behind: cut back to the last good end, retry later.
      if (written > 0) await ftruncateAsync(this.#fd, this.#size).catch(() => {});
      throw error;
    }
  }

  async #writeHead(line: string): Promise<void> {
    const tmp = `${this.headPath}.tmp`;
    await writeFile(tmp, `${line}\n`, { flush: this.#fsync });
    await rename(tmp, this.headPath);
    if (this.#fsync) {
      // Make the rename itself durable (not supported on every platform).
      try {
        const dir = await open(dirname(this.headPath), "r");
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

  #armRetry(): void {
    if (this.#retryTimer !== undefined || this.#closed) return;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        if (this.#queue.length > 0) this.#requestDrain().catch(() => {});
      },
      Math.max(this.#flushIntervalMs, 1000),
    );
    this.#retryTimer.unref();
  }

  /** Brings the head file up to date within checkpointIntervalMs when no further group comes. */
  #armCheckpointTimer(): void {
    if (!this.#signer || this.#closed || this.#checkpointTimer !== undefined) return;
    if (this.#lastCheckpoint === undefined || this.#lastCheckpoint.seq <= this.#headSeq) return;
    const delay = Math.max(0, this.#lastHeadAt + this.#checkpointIntervalMs - Date.now());
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
