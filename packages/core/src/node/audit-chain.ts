// Format v2 of the audit log: records carry no hash; each group ends with a chain point whose hash covers the group's bytes.
import { createHash, type Hash } from "node:crypto";
import { NO_ROOM, type DecisionEncoder } from "./decision-encoder.js";

/** The format version written by `JsonlAuditSink` (the `v` of every line). v1 lines (no `v`) are still read and verified. */
export const AUDIT_FORMAT_VERSION = 2;

/** Length of `,"seq":<up to 16 digits>,"type":"decision","v":2}\n` plus `{"args":` and `,"decision":`. */
const RECORD_OVERHEAD = 96;

/** Bytes `encodeRecord` may need for a record. */
export function recordRoom(decisionJsonText: string, argsJson: string | undefined): number {
  return RECORD_OVERHEAD + 3 * (decisionJsonText.length + (argsJson?.length ?? 0));
}

const DECISION_KEY = Buffer.from('{"decision":', "latin1");
const SEQ_KEY = Buffer.from(',"seq":', "latin1");
const RECORD_END = Buffer.from(',"type":"decision","v":2}\n', "latin1");

/** Room `recordTail` may need: `,"seq":` and up to 16 digits, then `,"type":"decision","v":2}\n`. */
const TAIL_ROOM = 64;

/** Writes the end of a v2 decision record (its `seq`, type, version and `\n`) at `q`; returns where it ends. */
function recordTail(buf: Buffer, q: number, seq: number): number {
  buf.set(SEQ_KEY, q);
  q += SEQ_KEY.length;
  let digits = 1;
  for (let t = seq; t >= 10; t = Math.floor(t / 10)) digits++;
  for (let i = q + digits - 1, t = seq; i >= q; i--, t = Math.floor(t / 10)) buf[i] = 0x30 + (t % 10);
  q += digits;
  buf.set(RECORD_END, q);
  return q + RECORD_END.length;
}

/**
 * Encodes one v2 decision record line (with its `\n`) into `buf` at `at`, which
 * must have `recordRoom` bytes free, and returns where it ends. The fixed parts
 * are copied as bytes and `seq` written digit by digit: one string encoding per
 * record (the decision's JSON), not three.
 */
export function encodeRecord(
  buf: Buffer,
  at: number,
  seq: number,
  decisionJsonText: string,
  argsJson: string | undefined,
): number {
  let q = at;
  if (argsJson === undefined) {
    buf.set(DECISION_KEY, q);
    q += DECISION_KEY.length;
  } else q += buf.write(`{"args":${argsJson},"decision":`, q, "utf8");
  q += buf.write(decisionJsonText, q, "utf8");
  return recordTail(buf, q, seq);
}

/**
 * The same record line as `encodeRecord(buf, at, seq, JSON.stringify(decision))`,
 * written by `encoder` without the JSON string; returns where it ends, or
 * `NO_ROOM` / `UNSUPPORTED` (then nothing from `at` on counts).
 */
export function encodeDecisionRecord(
  encoder: DecisionEncoder,
  buf: Buffer,
  at: number,
  seq: number,
  decision: object,
): number {
  const body = at + DECISION_KEY.length;
  if (body + TAIL_ROOM > buf.length) return NO_ROOM;
  for (let i = 0; i < DECISION_KEY.length; i++) buf[at + i] = DECISION_KEY[i]!;
  const end = encoder.encode(buf, body, buf.length - TAIL_ROOM, decision);
  return end < 0 ? end : recordTail(buf, end, seq);
}

/**
 * The running hash of a v2 chain: SHA-256 over the previous chain point's
 * hash (64 hex characters), every line after it (with its `\n`), and the next
 * chain point's line without its `hash` (and `sig`). One update per chunk of
 * records instead of one hash per record.
 */
export class ChainHash {
  #h: Hash;

  constructor(prevHash: string) {
    this.#h = createHash("sha256").update(prevHash, "latin1");
  }

  update(bytes: Uint8Array): void {
    this.#h.update(bytes);
  }

  /** The hash of a chain point with canonical body `body`; the chain then continues from it. */
  close(body: string): string {
    const hash = this.#h.update(body, "utf8").digest("hex");
    this.#h = createHash("sha256").update(hash, "latin1");
    return hash;
  }

  /** What `close(body)` would return, leaving the chain as it is. */
  peek(body: string): string {
    return this.#h.copy().update(body, "utf8").digest("hex");
  }
}

/**
 * The part of a chain point's line its hash covers: the line without its
 * trailing `hash` (and `sig`) field, closed; `undefined` when the line does not
 * end the way the writer ends it.
 */
export function chainPointBody(text: string, hash: string, sig: string | undefined): string | undefined {
  const tail = sig === undefined ? `,"hash":"${hash}"}` : `,"hash":"${hash}","sig":"${sig}"}`;
  if (text.length <= tail.length + 1 || !text.endsWith(tail)) return undefined;
  return `${text.slice(0, text.length - tail.length)}}`;
}
