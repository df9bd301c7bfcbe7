import type { AgentIdentity, JsonWebKey } from "../identity/agent-identity.js";
import { ArgsRedactor } from "./redact.js";

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
  /**
   * Refresh the head file (the truncation anchor: the latest signed checkpoint, beside the log) after this many records.
   * Default 10 000. It is also refreshed after a quarter of the reopen limit in bytes (16 MiB by default), so that a
   * reopen after a crash finds the checkpoint it names.
   */
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
   * `onBufferFull` decides. Reopening a log reads back at most 4 × this (at
   * least 64 MiB); a bigger value is written in the head file, so that a
   * later reopen reads as far back as this writer could have left (a reopen
   * with a smaller value reads at most 16 × its own limit, 1 GiB by default).
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

/** The options checked, with their defaults filled in. */
export interface SinkSettings {
  signer: AgentIdentity | undefined;
  /** The signer's public key (public-only JWK). */
  key: JsonWebKey | undefined;
  redactor: ArgsRedactor | undefined;
  flushEvery: number;
  flushIntervalMs: number;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  fsync: boolean;
  warn: (message: string) => void;
  lockStaleMs: number | undefined;
  maxBufferBytes: number;
  denyWhenFull: boolean;
}

function positiveInt(value: number | undefined, name: string, dflt: number, min = 1): number {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min)
    throw new TypeError(`JsonlAuditSink: ${name} must be an integer >= ${min}`);
  return value;
}

/** Checks `options` (throwing `TypeError` on a bad one) and fills in the defaults. */
export function sinkSettings(options: JsonlAuditSinkOptions): SinkSettings {
  if (typeof options !== "object" || options === null) throw new TypeError("JsonlAuditSink: options must be an object");
  const flushEvery = positiveInt(options.flushEvery, "flushEvery", 1000);
  const flushIntervalMs = positiveInt(options.flushIntervalMs, "flushIntervalMs", 100, 0);
  const checkpointEvery = positiveInt(options.checkpointEvery, "checkpointEvery", 10_000);
  const checkpointIntervalMs = positiveInt(options.checkpointIntervalMs, "checkpointIntervalMs", 5_000, 0);
  const maxBufferBytes = positiveInt(options.maxBufferBytes, "maxBufferBytes", 16 * 1024 * 1024, 4096);
  if (options.onBufferFull !== undefined && options.onBufferFull !== "deny" && options.onBufferFull !== "drop") {
    throw new TypeError('JsonlAuditSink: onBufferFull must be "deny" or "drop"');
  }
  const settings: SinkSettings = {
    signer: undefined,
    key: undefined,
    flushEvery,
    flushIntervalMs,
    checkpointEvery,
    checkpointIntervalMs,
    fsync: options.fsync ?? true,
    maxBufferBytes,
    denyWhenFull: options.onBufferFull !== "drop",
    warn: options.onWarning ?? ((m) => console.warn(`[agentgate] ${m}`)),
    redactor: options.includeArgs ? new ArgsRedactor(options) : undefined,
    lockStaleMs:
      options.lockStaleMs === undefined ? undefined : positiveInt(options.lockStaleMs, "lockStaleMs", 10_000),
  };
  const signer = options.signer;
  if (signer !== undefined) {
    const key = signer.algorithm === "Ed25519" ? signer.publicKeyJwk() : undefined;
    if (!key)
      throw new TypeError(
        'JsonlAuditSink: signer must be an Ed25519 AgentIdentity (create it with { algorithm: "Ed25519" })',
      );
    settings.signer = signer;
    settings.key = { kty: "OKP", crv: "Ed25519", x: key.x };
  }
  return settings;
}
