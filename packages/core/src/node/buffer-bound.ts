// Backpressure for the JSONL sink: at most `maxBufferBytes` of records wait for the disk; past that, deny or drop.
import type { Decision } from "../gate/decision.js";
import { canonicalJson } from "../gate/fingerprint.js";
import { AuditLogError } from "./audit-log-error.js";

/** Bytes of records accepted and not yet on disk, against the bound, and the records dropped at it. */
export class BufferBound {
  /** Bytes of records accepted and not yet on disk. */
  pendingBytes = 0;
  dropped = 0;
  /** Dropped since the last `recovery` record that counts them. */
  unnoted = 0;
  /** Why the last group commit failed (cleared by the next one that succeeds). */
  lastError: string | undefined;
  /** The rejection returned for every drop since the last `recovery` record. */
  #dropping: Promise<void> | undefined;
  readonly #path: string;
  readonly #max: number;
  readonly #deny: boolean;

  constructor(path: string, maxBufferBytes: number, denyWhenFull: boolean) {
    this.#path = path;
    this.#max = maxBufferBytes;
    this.#deny = denyWhenFull;
  }

  get full(): boolean {
    return this.pendingBytes >= this.#max;
  }

  /** With `onBufferFull: "deny"`, why the sink cannot take records now; `undefined` otherwise. */
  unavailable(lockLost: boolean): string | undefined {
    if (!this.#deny) return undefined;
    if (lockLost) return `audit log ${this.#path} lost its lock to another process`;
    if (this.pendingBytes < this.#max) return undefined;
    return `audit log ${this.#path} holds ${this.pendingBytes} bytes of records not yet written (maxBufferBytes ${this.#max})${this.lastError ? `: ${this.lastError}` : ""}`;
  }

  /**
   * A record that does not fit: counted, reported (the gate passes the rejection to `onAuditError`), never buffered.
   * One run of drops shares one rejected promise (naming its first decision): a producer that never yields
   * would otherwise pile up an error and a rejection job per refused record, unbounded.
   */
  drop(decision: Decision, lockLost: boolean): Promise<void> {
    this.dropped++;
    this.unnoted++;
    if (this.#dropping !== undefined) return this.#dropping;
    const why = lockLost
      ? `lost its lock to another process`
      : `the buffer is full (${this.pendingBytes} bytes not yet written, maxBufferBytes ${this.#max}${this.lastError ? `; ${this.lastError}` : ""})`;
    const error = new AuditLogError(
      this.#path,
      `audit log ${this.#path}: ${why}; decision ${decision.id} was not written (${this.dropped} dropped so far)`,
    );
    const rejected = Promise.reject(error);
    rejected.catch(() => {});
    this.#dropping = rejected;
    return rejected;
  }

  /** The v2 `recovery` record (with its `\n`) at `seq` that counts the drops not yet noted. Starts a new run of drops. */
  noteDropped(seq: number): Buffer {
    this.#dropping = undefined;
    const body = canonicalJson({ at: new Date().toISOString(), dropped: this.unnoted, seq, type: "recovery", v: 2 });
    this.unnoted = 0;
    return Buffer.from(`${body}\n`, "utf8");
  }
}
