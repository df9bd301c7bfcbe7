import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncate,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writev,
  writeSync,
} from "node:fs";
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
  GENESIS_HASH,
  parseRecordLine,
  recordLine,
  sha256,
  type CheckpointRecord,
} from "./audit-record.js";
import { lockFile } from "./file-lock.js";
import { ArgsRedactor } from "./redact.js";

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);

export interface JsonlAuditSinkOptions {
  /**
   * An Ed25519 identity (the agent's, or a dedicated audit key) that signs
   * checkpoints: one when the file is opened, every `checkpointEvery` records or
   * `checkpointIntervalMs`, and on `close()`. Without it the hash chain still shows
   * edits, but truncation and re-chaining by someone with write access do not.
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
  /** Sign a checkpoint after this many records. Default 10 000. */
  checkpointEvery?: number;
  /** Sign a checkpoint at least this often while records arrive. Default 5 000 ms. */
  checkpointIntervalMs?: number;
  /** `fdatasync` after each group (default true). Turn off only where power loss does not matter (tests). */
  fsync?: boolean;
  /** Where recoveries and background write failures are reported. Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** A checkpoint that made it to disk. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
}

/** What opening the file found. */
export interface AuditLogOpenState {
  /** True when the file had records and the new ones continue its chain. */
  resumed: boolean;
  /** The seq the next record gets. */
  nextSeq: number;
  /** A torn (incomplete) last line left by a crash: cut off and recorded in a `recovery` record. */
  recoveredTornLine?: { offset: number; bytes: number; sha256: string };
  /** A checkpoint named by the head file but missing from the log (a crash between the two) was restored. */
  restoredCheckpoint?: number;
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
}

type Item = Chunk | PendingCheckpoint;

/** Records are encoded straight into chunks of this size (bigger for a bigger record). */
const CHUNK_BYTES = 64 * 1024;

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

const RECOVERY_PREVIEW_BYTES = 1024;

function positiveInt(value: number | undefined, name: string, dflt: number, min = 1): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) throw new TypeError(`JsonlAuditSink: ${name} must be an integer >= ${min}`);
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
 * `flushEvery` records or `flushIntervalMs`, and on `flush()` / `close()`.
 * Reopening a file continues its chain. One writer per file (a lock file
 * enforces it). Check a file with `verifyAuditLog`.
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

  #seq: number;
  #prevHash: string;
  /** Bytes of the file known written; a failed append is cut back to it. */
  #size: number;
  #queue: Item[] = [];
  #queuedRecords = 0;
  /** Current chunk: encoded records not yet queued for writing. */
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  /** Seq of the first record not yet known to be on disk. */
  #durable: number;
  #batch: Batch | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  #sinceCheckpoint = 0;
  #lastCheckpointAt = 0;
  #forceCheckpoint = false;
  #lastCheckpoint: AuditCheckpoint | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #failing = false;

  constructor(path: string, options: JsonlAuditSinkOptions = {}) {
    if (typeof path !== "string" || path === "") throw new TypeError("JsonlAuditSink: path must be a non-empty string");
    if (typeof options !== "object" || options === null) throw new TypeError("JsonlAuditSink: options must be an object");
    this.#flushEvery = positiveInt(options.flushEvery, "flushEvery", 1000);
    this.#flushIntervalMs = positiveInt(options.flushIntervalMs, "flushIntervalMs", 100, 0);
    this.#checkpointEvery = positiveInt(options.checkpointEvery, "checkpointEvery", 10_000);
    this.#checkpointIntervalMs = positiveInt(options.checkpointIntervalMs, "checkpointIntervalMs", 5_000, 0);
    this.#fsync = options.fsync ?? true;
    this.#warn = options.onWarning ?? ((m) => console.warn(`[agentgate] ${m}`));
    this.#redactor = options.includeArgs ? new ArgsRedactor(options) : undefined;
    const signer = options.signer;
    if (signer !== undefined) {
      const key = signer.algorithm === "Ed25519" ? signer.publicKeyJwk() : undefined;
      if (!key) throw new TypeError("JsonlAuditSink: signer must be an Ed25519 AgentIdentity (create it with { algorithm: \"Ed25519\" })");
      this.#signer = signer;
      this.#key = { kty: "OKP", crv: "Ed25519", x: key.x };
    }

    this.path = resolve(path);
    this.headPath = `${this.path}.head`;
    mkdirSync(dirname(this.path), { recursive: true });
    this.#release = lockFile(this.path, `${this.path}.lock`);
    let fd: number | undefined;
    try {
      // 0600 on create: audit records may carry (redacted) tool arguments.
      fd = openSync(this.path, "a+", 0o600);
      this.#fd = fd;
      const resumed = this.#resume(fd);
      this.#seq = resumed.seq;
      this.#durable = resumed.seq;
      this.#prevHash = resumed.prevHash;
      this.#size = resumed.size;
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

  /**
   * Appends one decision (and, with `includeArgs`, its redacted arguments) to the
   * chain. Returns at once; the promise resolves when the record's group is on
   * disk and rejects if writing it failed (the gate reports that through
   * `onAuditError`; the record stays buffered and is retried).
   */
  write(decision: Decision, event?: AuditEvent): Promise<void> {
    if (this.#closed) throw new AuditLogError(this.path, `audit log ${this.path} is closed; decision ${decision?.id} was not written`);
    if (typeof decision !== "object" || decision === null) throw new TypeError("JsonlAuditSink.write: decision must be a Decision");
    const seq = this.#seq;
    const prev = this.#prevHash;
    const args = this.#redactor !== undefined && event?.args !== undefined ? this.#redactor.toJson(event.args) : undefined;
    const json = decisionJson(decision);
    const room = decisionRecordRoom(json, args);
    if (this.#used + room > this.#chunk.length) this.#seal(room);
    const { end, hash } = encodeDecisionRecord(this.#chunk, this.#used, seq, prev, json, args);
    this.#used = end;
    this.#seq = seq + 1;
    this.#prevHash = hash;
    this.#sinceCheckpoint++;
    let batch = this.#batch;
    if (batch === undefined) {
      batch = this.#batch = new Batch();
      this.#timer ??= setTimeout(this.#onTimer, this.#flushIntervalMs);
    }
    if (++this.#queuedRecords >= this.#flushEvery) this.#requestDrain().catch(() => {});
    return batch.promise;
  }

  /** Writes and syncs everything accepted so far. Rejects if that fails (the records stay buffered). */
  flush(): Promise<void> {
    if (this.#closing) return this.#closing;
    return this.#requestDrain();
  }

  /** Flushes and signs a checkpoint now (no-op without a signer or new records). */
  checkpoint(): Promise<void> {
    this.#forceCheckpoint = true;
    return this.flush();
  }

  /**
   * Flushes, signs a final checkpoint, and closes the file. Later writes throw.
   * If the final flush fails, `close()` rejects and can be called again to retry.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#forceCheckpoint = true;
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

  // --- opening ----------------------------------------------------------------

  /** Finds where the chain stops, repairs a crash's leftovers (never silently), and returns the resume point. */
  #resume(fd: number): { seq: number; prevHash: string; size: number; state: AuditLogOpenState } {
    const size = fstatSync(fd).size;
    const { last, lastEnd, fragment } = readTail(fd, size);
    let seq = 0;
    let prevHash = GENESIS_HASH;
    let end = size;
    const state: AuditLogOpenState = { resumed: false, nextSeq: 0 };
    if (last !== undefined) {
      const parsed = parseRecordLine(last.toString("utf8"));
      if (parsed.problem !== undefined || !parsed.hashOk || !parsed.canonical) {
        const why = parsed.problem ?? (parsed.hashOk ? "is not in canonical form" : "does not match its hash");
        throw new AuditLogError(
          this.path,
          `audit log ${this.path}: its last line ${why}; refusing to append to a chain that does not verify (check it with verifyAuditLog, then start a new file)`,
        );
      }
      seq = parsed.record.seq + 1;
      prevHash = parsed.record.hash;
      state.resumed = true;
    }
    let torn: AuditLogOpenState["recoveredTornLine"];
    let tornPreview = "";
    if (fragment !== undefined) {
      const parsed = parseRecordLine(fragment.toString("utf8"));
      if (parsed.record && parsed.hashOk && parsed.canonical && parsed.record.seq === seq && parsed.record.prevHash === prevHash) {
        // Complete but for its newline: keep it.
        writeSync(fd, "\n");
        end += 1;
        seq += 1;
        prevHash = parsed.record.hash;
        state.resumed = true;
      } else {
        torn = { offset: lastEnd, bytes: fragment.length, sha256: sha256(fragment) };
        tornPreview = fragment.subarray(0, RECOVERY_PREVIEW_BYTES).toString("base64");
        // The torn bytes were never acknowledged as written; cut them off and record them below.
        ftruncateSync(fd, lastEnd);
        end = lastEnd;
      }
    }
    let append = "";
    const head = this.#readHead();
    if (head) {
      if (this.#key && head.record.key.x !== this.#key.x) {
        throw new AuditLogError(this.path, `audit log ${this.path} is signed with a different key than this sink's signer; use the same key or start a new file`);
      }
      if (head.record.seq === seq && head.record.prevHash === prevHash) {
        // The writer stopped between writing the head and appending its checkpoint.
        append += `${head.line}\n`;
        seq += 1;
        prevHash = head.record.hash;
        state.restoredCheckpoint = head.record.seq;
      } else if (head.record.seq > seq) {
        throw new AuditLogError(
          this.path,
          `audit log ${this.path} ends at seq ${seq - 1} but its head file names checkpoint seq ${head.record.seq}: the log was truncated; refusing to append (to start a new log, move the log and its head file away)`,
        );
      }
    }
    if (torn) {
      const body = canonicalJson({
        at: new Date().toISOString(),
        prevHash,
        seq,
        torn: { bytes: torn.bytes, preview: tornPreview, sha256: torn.sha256 },
        type: "recovery",
      });
      const hash = chainHash(prevHash, body);
      append += `${recordLine(body, hash)}\n`;
      seq += 1;
      prevHash = hash;
      state.recoveredTornLine = torn;
    }
    if (append !== "") {
      const bytes = Buffer.from(append, "utf8");
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      end += bytes.length;
    }
    if (end !== size && this.#fsync) fdatasyncSync(fd);
    if (torn) {
      this.#warn(
        `audit log ${this.path}: a torn last line (${torn.bytes} bytes at offset ${torn.offset}, sha256 ${torn.sha256}) from an interrupted write was cut off and recorded in recovery record seq ${seq - 1}`,
      );
    }
    state.nextSeq = seq;
    return { seq, prevHash, size: end, state };
  }

  #readHead(): { line: string; record: CheckpointRecord } | undefined {
    let text: string;
    try {
      text = readFileSync(this.headPath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const line = text.endsWith("\n") ? text.slice(0, -1) : text;
    const parsed = parseRecordLine(line);
    if (parsed.problem !== undefined || !parsed.hashOk || !parsed.canonical || parsed.record.type !== "checkpoint") {
      throw new AuditLogError(this.path, `audit log head file ${this.headPath} is not a valid checkpoint; refusing to append (check with verifyAuditLog)`);
    }
    return { line, record: parsed.record };
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
      this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
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
    this.#sinceCheckpoint = 0;
    this.#lastCheckpointAt = now;
  }

  async #drain(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#seal();
    const now = Date.now();
    if (
      this.#signer &&
      this.#sinceCheckpoint > 0 &&
      (this.#forceCheckpoint || this.#sinceCheckpoint >= this.#checkpointEvery || now - this.#lastCheckpointAt >= this.#checkpointIntervalMs)
    ) {
      this.#enqueueCheckpoint(now);
    }
    this.#forceCheckpoint = false;
    const items = this.#queue;
    const batch = this.#batch;
    this.#queue = [];
    this.#queuedRecords = 0;
    this.#batch = undefined;
    let done = 0;
    try {
      let out: Buffer[] = [];
      let through = this.#durable - 1;
      let checkpoint: AuditCheckpoint | undefined;
      const flush = async (upTo: number) => {
        await this.#append(out);
        out = [];
        done = upTo;
        this.#durable = through + 1;
        if (checkpoint) this.#lastCheckpoint = checkpoint;
      };
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if ("bytes" in item) {
          out.push(item.bytes);
          through = item.lastSeq;
          continue;
        }
        // Records before a checkpoint reach the disk before the head names it, and
        // the head is written before the checkpoint line: whatever a crash
        // interrupts, the head never names records the log lacks.
        if (out.length > 0) await flush(i);
        const line = await this.#checkpointLine(item);
        const chunk: Chunk = { bytes: Buffer.from(`${line}\n`, "utf8"), lastSeq: item.seq };
        items[i] = chunk;
        await this.#writeHead(line);
        out.push(chunk.bytes);
        through = item.seq;
        checkpoint = { seq: item.seq, hash: item.hash, at: item.at };
      }
      if (out.length > 0) await flush(items.length);
      done = items.length;
      this.#failing = false;
      batch?.resolve();
      this.#armCheckpointTimer();
    } catch (cause) {
      const left = items.slice(done);
      this.#queue = left.concat(this.#queue);
      this.#queuedRecords = 0;
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

  async #append(buffers: Buffer[]): Promise<void> {
    let left = buffers;
    let written = 0;
    try {
      while (left.length > 0) {
        let n = (await writevAsync(this.#fd, left)).bytesWritten;
        written += n;
        // A short write: drop what went out, keep the rest.
        let i = 0;
        while (i < left.length && n >= left[i]!.length) n -= left[i++]!.length;
        left = left.slice(i);
        if (n > 0) left[0] = left[0]!.subarray(n);
      }
      if (this.#fsync) await fdatasyncAsync(this.#fd);
      this.#size += written;
    } catch (error) {
      // Leave no partial line behind: cut back to the last good end, retry later.
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
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#queue.length > 0) this.#requestDrain().catch(() => {});
    }, Math.max(this.#flushIntervalMs, 1000));
    this.#retryTimer.unref();
  }

  #armCheckpointTimer(): void {
    if (!this.#signer || this.#closed || this.#sinceCheckpoint === 0 || this.#checkpointTimer !== undefined) return;
    const delay = Math.max(0, this.#lastCheckpointAt + this.#checkpointIntervalMs - Date.now());
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

const TAIL_CHUNK = 64 * 1024;

/**
 * Reads backwards from the end: the last complete line (without `\n`), where it
 * ends (just after its `\n`), and any bytes after it (a torn line).
 */
function readTail(fd: number, size: number): { last: Buffer | undefined; lastEnd: number; fragment: Buffer | undefined } {
  if (size === 0) return { last: undefined, lastEnd: 0, fragment: undefined };
  const newlines: number[] = [];
  const chunks: Buffer[] = [];
  let start = size;
  while (start > 0 && newlines.length < 2) {
    const from = Math.max(0, start - TAIL_CHUNK);
    const chunk = Buffer.alloc(start - from);
    let got = 0;
    while (got < chunk.length) {
      const n = readSync(fd, chunk, got, chunk.length - got, from + got);
      if (n === 0) break;
      got += n;
    }
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
