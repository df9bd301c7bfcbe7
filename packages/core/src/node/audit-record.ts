import { createPublicKey, hash as digest, verify as verifySignature } from "node:crypto";
import { isDecision, type Decision } from "../gate/decision.js";
import { canonicalJson } from "../gate/fingerprint.js";
import type { JsonWebKey } from "../identity/agent-identity.js";
import { chainPointBody } from "./audit-chain.js";

/** `prevHash` of a log's first chain point (v2) or record (v1). */
export const GENESIS_HASH = "0".repeat(64);

/** What a checkpoint signature covers: this prefix and the checkpoint's hash (which covers the chain before it). */
export const CHECKPOINT_DOMAIN = "agentgate.audit.checkpoint.v1:";

interface RecordBase {
  /** 0, 1, 2, ... without gaps, across every record type. */
  seq: number;
  /** The line format: 2 on every line `JsonlAuditSink` writes now; absent on v1 lines. */
  v?: 2;
  /**
   * v1: on every record, the `hash` of the record before (`GENESIS_HASH` for the first).
   * v2: on chain points only (`seal`, `checkpoint`), the `hash` of the chain point before.
   */
  prevHash?: string;
  /**
   * SHA-256 (hex). v1: of `prevHash` + the record's canonical JSON without `hash`
   * (and `sig`). v2, on chain points only: of `prevHash`, the lines since the chain
   * point before (each with its `\n`), and this line without `hash` (and `sig`).
   */
  hash?: string;
}

/** One gate decision. */
export interface DecisionRecord extends RecordBase {
  type: "decision";
  decision: Decision;
  /** Tool arguments, only with `includeArgs`, secret-looking keys redacted. */
  args?: unknown;
}

/** A signed statement "the chain up to here is this": makes truncation and re-chaining detectable. */
export interface CheckpointRecord extends RecordBase {
  type: "checkpoint";
  prevHash: string;
  hash: string;
  /** ISO 8601 time the checkpoint was taken. */
  at: string;
  /** The signer's public key (public-only Ed25519 JWK). Trust it only if it matches a key you know. */
  key: JsonWebKey;
  signer: { id: string; name: string };
  /** Ed25519 signature (hex) over `CHECKPOINT_DOMAIN + hash`. Not part of the hash. */
  sig: string;
}

/**
 * Written on reopen after a crash: names what the new writer cannot vouch for,
 * so nothing is silently chained over or signed over.
 */
export interface RecoveryRecord extends RecordBase {
  type: "recovery";
  at: string;
  /** A torn (incomplete) last line that was cut off: its length and SHA-256. */
  torn?: { bytes: number; sha256: string };
  /** Records (seq `from`..`to`, just before this one) after the last signed checkpoint: no signature proves them. */
  unsigned?: { from: number; to: number };
  /** Decisions not written since the record before, because the sink's buffer was full (`maxBufferBytes`). */
  dropped?: number;
}

/** v2: ends a group commit of a log without a signer (with one, a checkpoint does). */
export interface SealRecord extends RecordBase {
  type: "seal";
  v: 2;
  prevHash: string;
  hash: string;
  /** ISO 8601 time the group was sealed. */
  at: string;
}

export type AuditRecord = DecisionRecord | CheckpointRecord | RecoveryRecord | SealRecord;

/** SHA-256, hex. */
export function sha256(data: string | Uint8Array): string {
  return digest("sha256", data, "hex");
}

/** The chain hash of a record given its canonical body (the record without `hash` and `sig`). */
export function chainHash(prevHash: string, canonicalBody: string): string {
  return sha256(prevHash + canonicalBody);
}

/** The line for a record: its canonical body with `hash` (and `sig`) appended. Verification rebuilds it byte for byte. */
export function recordLine(canonicalBody: string, hash: string, sig?: string): string {
  const tail = sig === undefined ? `,"hash":"${hash}"}` : `,"hash":"${hash}","sig":"${sig}"}`;
  return canonicalBody.slice(0, -1) + tail;
}

// --- Fast encoding of decision records ------------------------------------------
// The generic `canonicalJson` sorts the keys of every object. A decision is a
// flat object with known keys: copying them, in sorted order, into an object
// literal of fixed shape and letting the native JSON.stringify run (it skips
// undefined values) is much cheaper. Anything unexpected (an unknown key, a
// nested value) falls back to the generic encoder, so the output is always
// exactly `canonicalJson(decision)`.

const plain = (v: unknown) => v === undefined || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/** `canonicalJson(decision, 1)`, fast for decisions as the gate makes them. */
export function decisionJson(decision: Decision): string {
  const {
    action,
    agentId,
    agentName,
    approvedBy,
    callId,
    code,
    escalationId,
    id,
    mode,
    policy,
    reason,
    retryAfterMs,
    target,
    timestamp,
    type,
  } = decision as unknown as Record<string, unknown>;
  if (
    !(
      plain(action) &&
      plain(agentId) &&
      plain(agentName) &&
      plain(approvedBy) &&
      plain(callId) &&
      plain(code) &&
      plain(escalationId) &&
      plain(id) &&
      plain(mode) &&
      plain(policy) &&
      plain(reason) &&
      plain(retryAfterMs) &&
      plain(target) &&
      plain(timestamp) &&
      plain(type)
    )
  ) {
    return canonicalJson(decision, 1);
  }
  const defined =
    +(action !== undefined) +
    +(agentId !== undefined) +
    +(agentName !== undefined) +
    +(approvedBy !== undefined) +
    +(callId !== undefined) +
    +(code !== undefined) +
    +(escalationId !== undefined) +
    +(id !== undefined) +
    +(mode !== undefined) +
    +(policy !== undefined) +
    +(reason !== undefined) +
    +(retryAfterMs !== undefined) +
    +(target !== undefined) +
    +(timestamp !== undefined) +
    +(type !== undefined);
  let own = 0;
  for (const _ in decision) own++;
  if (own !== defined) return canonicalJson(decision, 1);
  return JSON.stringify({
    action,
    agentId,
    agentName,
    approvedBy,
    callId,
    code,
    escalationId,
    id,
    mode,
    policy,
    reason,
    retryAfterMs,
    target,
    timestamp,
    type,
  });
}

/** Canonical body of any record: everything but `hash`, and `sig` for checkpoints. */
export function canonicalBody(record: Record<string, unknown>): string {
  const rest: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(record)) {
    if (key === "hash" || (key === "sig" && record.type === "checkpoint")) continue;
    rest[key] = record[key];
  }
  return canonicalJson(rest);
}

/**
 * `canonicalBody` of a decision record as the sink writes it (keys `args`?,
 * `decision`, `hash`, `prevHash`, `seq`, `type`), built the way the sink builds
 * it instead of through the generic sorter; `undefined` for any other shape.
 * `prevHash` and `seq` must already be checked (hex, safe integer).
 */
function decisionBody(r: Record<string, unknown>): string | undefined {
  let keys = 0;
  for (const _ in r) keys++;
  const args = r.args;
  if (keys !== (args === undefined ? 5 : 6)) return undefined;
  const head = args === undefined ? '{"decision":' : `{"args":${canonicalJson(args)},"decision":`;
  return `${head}${decisionJson(r.decision as Decision)},"prevHash":"${r.prevHash as string}","seq":${r.seq as number},"type":"decision"}`;
}

/** The signature of a checkpoint covers this message. */
export function checkpointMessage(hash: string): string {
  return CHECKPOINT_DOMAIN + hash;
}

const SIG_HEX = /^[0-9a-f]{128}$/;

/** Synchronous check of a checkpoint's Ed25519 signature with `key` (for opening a log, where nothing may be awaited). */
export function checkpointSignatureOk(key: JsonWebKey, record: CheckpointRecord): boolean {
  try {
    if (typeof record.sig !== "string" || !SIG_HEX.test(record.sig)) return false;
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: key.x }, format: "jwk" });
    return verifySignature(
      null,
      Buffer.from(checkpointMessage(record.hash), "utf8"),
      publicKey,
      Buffer.from(record.sig, "hex"),
    );
  } catch {
    return false;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** True for a lowercase hex SHA-256. */
export function isHash(value: unknown): value is string {
  return typeof value === "string" && HEX64.test(value);
}

/**
 * A line as read back: its record, or why it is not one. A v1 line is checked
 * on its own (`hashOk`, `canonical`). A v2 line's hash covers the lines before
 * it: `body` is what a chain point's hash covers last (`undefined` for a record,
 * or for a chain point whose `hash` and `sig` are not where the writer puts them).
 */
export type ParsedRecordLine =
  | { record: AuditRecord; version: 1; hashOk: boolean; canonical: boolean; problem?: undefined }
  | { record: AuditRecord; version: 2; body: string | undefined; problem?: undefined }
  | { record?: undefined; problem: string };

function isPublicJwk(value: unknown): value is JsonWebKey {
  const k = value as JsonWebKey | null;
  return typeof k === "object" && k !== null && k.kty === "OKP" && k.crv === "Ed25519" && typeof k.x === "string";
}

/** True for a v2 line that carries a hash: a `seal` or a `checkpoint`. */
export function isChainPoint(record: AuditRecord): record is CheckpointRecord | SealRecord {
  return record.v === 2 && record.hash !== undefined;
}

/** Why `r` is not a record of its type (shape only), or `undefined`. */
function shapeProblem(r: Record<string, unknown>, v2: boolean): string | undefined {
  switch (r.type) {
    case "decision":
      return isDecision(r.decision) ? undefined : "is a decision record without a valid decision";
    case "seal":
      return v2 && typeof r.at === "string" ? undefined : "is a malformed seal";
    case "checkpoint": {
      const signer = r.signer as { id?: unknown; name?: unknown } | null;
      const ok =
        typeof r.at === "string" &&
        isPublicJwk(r.key) &&
        typeof r.sig === "string" &&
        typeof signer === "object" &&
        signer !== null;
      return ok ? undefined : "is a malformed checkpoint";
    }
    case "recovery": {
      const torn = r.torn as { bytes?: unknown; sha256?: unknown } | null | undefined;
      const unsigned = r.unsigned as { from?: unknown; to?: unknown } | null | undefined;
      const tornOk =
        torn === undefined ||
        (typeof torn === "object" && torn !== null && typeof torn.bytes === "number" && isHash(torn.sha256));
      const unsignedOk =
        unsigned === undefined ||
        (typeof unsigned === "object" &&
          unsigned !== null &&
          Number.isSafeInteger(unsigned.from) &&
          Number.isSafeInteger(unsigned.to) &&
          (unsigned.from as number) >= 0 &&
          (unsigned.from as number) <= (unsigned.to as number) &&
          (unsigned.to as number) < (r.seq as number));
      const droppedOk = r.dropped === undefined || (Number.isSafeInteger(r.dropped) && (r.dropped as number) > 0);
      const ok =
        typeof r.at === "string" &&
        (torn !== undefined || unsigned !== undefined || r.dropped !== undefined) &&
        tornOk &&
        unsignedOk &&
        droppedOk;
      return ok ? undefined : "is a malformed recovery record";
    }
    default:
      return `has an unknown record type ${JSON.stringify(r.type)}`;
  }
}

/**
 * Parses one line and checks its shape. A v1 line is also checked on its own:
 * that its bytes hash to its `hash` (`hashOk` and `canonical` both true); one
 * that does not is re-encoded as the writer would, `hashOk` saying whether the
 * content matches its hash, `canonical` whether the line is byte for byte what
 * the writer produces. Chain checks (seq, prevHash, a v2 chain point's hash)
 * are the caller's.
 */
export function parseRecordLine(text: string): ParsedRecordLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: "is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { problem: "is not a JSON object" };
  const r = value as Record<string, unknown>;
  if (typeof r.seq !== "number" || !Number.isSafeInteger(r.seq) || r.seq < 0) return { problem: "has no valid seq" };
  if (r.v !== undefined && r.v !== 2) return { problem: `has an unknown format version ${JSON.stringify(r.v)}` };
  const v2 = r.v === 2;
  if (v2 && r.type !== "checkpoint" && r.type !== "seal") {
    // A v2 record: its group's chain point hashes it.
    if (r.prevHash !== undefined || r.hash !== undefined) return { problem: "is a v2 record with a hash of its own" };
  } else if (!isHash(r.prevHash) || typeof r.hash !== "string" || r.hash.length !== 64) {
    return { problem: "has no valid prevHash and hash" };
  }
  const problem = shapeProblem(r, v2);
  if (problem !== undefined) return { problem };
  const record = r as unknown as AuditRecord;
  if (v2) {
    if (r.hash === undefined) return { record, version: 2, body: undefined };
    if (!isHash(r.hash)) return { problem: "has no valid prevHash and hash" };
    const body = chainPointBody(text, r.hash, r.type === "checkpoint" ? (r.sig as string) : undefined);
    return { record, version: 2, body };
  }
  // Fast path: the line's own bytes, without its hash (and signature), hash to the recorded hash. The
  // writer's lines always do. A line in another form can pass only with a recomputed hash, which breaks
  // the chain's next signed checkpoint; so only a line that fails here is re-encoded to say which edit it was.
  const hash = r.hash as string;
  const prevHash = r.prevHash as string;
  const own = chainPointBody(text, hash, r.type === "checkpoint" ? (r.sig as string) : undefined);
  if (own !== undefined && chainHash(prevHash, own) === hash)
    return { record, version: 1, hashOk: true, canonical: true };
  if (!isHash(hash)) return { problem: "has no valid prevHash and hash" };
  let body: string;
  try {
    body = (r.type === "decision" ? decisionBody(r) : undefined) ?? canonicalBody(r);
  } catch (error) {
    return { problem: `cannot be canonicalised: ${error instanceof Error ? error.message : String(error)}` };
  }
  const hashOk = chainHash(prevHash, body) === hash;
  const canonical = recordLine(body, hash, r.type === "checkpoint" ? (r.sig as string) : undefined) === text;
  return { record, version: 1, hashOk, canonical };
}

/** Accepts a public JWK, its JSON text, or an exported public identity (`{ publicKeyJwk }`). */
export function toPublicJwk(input: unknown): JsonWebKey {
  let value = input;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw new TypeError("publicKey: expected an Ed25519 JWK or its JSON text");
    }
  }
  if (typeof value === "object" && value !== null && "publicKeyJwk" in value)
    value = (value as { publicKeyJwk: unknown }).publicKeyJwk;
  if (!isPublicJwk(value))
    throw new TypeError('publicKey: expected an Ed25519 public JWK ({ kty: "OKP", crv: "Ed25519", x })');
  return { kty: "OKP", crv: "Ed25519", x: value.x };
}
