// Writes `JSON.stringify(decision)` as UTF-8 straight into the sink's chunk, byte for byte the same text, with no
// string built per decision: most of a decision repeats from one check to the next (the policy's memoised reason and
// target, the gate's agent and policy), so runs of repeating string fields are copied from bytes encoded once, and the
// per-decision fields (id, timestamp, call id) are written a character at a time (through `JSON.stringify` if one needs
// an escape or is not ASCII). Whatever does not fit (nested values, `toJSON`, another prototype, a record bigger than
// the chunk) is left to `JSON.stringify`.
import { DECISION_FIELDS } from "../gate/decision.js";
import { lastDecisionId } from "../gate/decision-ids.js";

/** `encode` had no room before `limit`: nothing past `at` counts (retry in a fresh chunk). */
export const NO_ROOM = -1;
/** `encode` does not handle this value: use `JSON.stringify`. */
export const UNSUPPORTED = -2;

/** Encoded runs kept per run of fields (round robin). */
const RUN_ENTRIES = 16;
/** A run longer than this is written without being kept (a clipped 16 KB reason is not worth keeping). */
const MAX_RUN_BYTES = 2048;
/** Layouts kept (the gate makes a handful: with or without a target, a call id, ...). */
const MAX_LAYOUTS = 8;
/** Copies shorter than this are a loop: a native `set` costs more than the bytes. */
const SHORT_COPY = 48;

/** `,"id":"` and an id base's bytes, kept for a few bases (one sink may serve several gates). */
const ID_HEADS = 4;
/** Lowercase hex digits' char codes. */
const HEX = Buffer.from("0123456789abcdef", "latin1");

/** One run's values and the bytes of its `,"key":value` pairs. */
interface RunEntry {
  values: unknown[];
  bytes: Uint8Array;
}

/** Fields `from`..`to` (exclusive) of a layout: one per-decision field, or a run of repeating ones. */
interface Segment {
  from: number;
  to: number;
  /** Present for a run of repeating fields. */
  entries: RunEntry[] | undefined;
  next: number;
  /** The last values of runs that missed lately: a run is kept the second time it is seen. */
  misses: unknown[];
  nextMiss: number;
  /** For `timestamp` (one string per millisecond): its last value and the bytes written for it. */
  last: { value: unknown; bytes: Uint8Array; length: number } | undefined;
}

/** A decision's keys, in order, each with its `,"key":` bytes, split into segments. */
interface Layout {
  keys: string[];
  /** Each key's index in DECISION_KEYS (-1: another key). */
  codes: number[];
  /** Every key is a Decision field: the values are read by name. */
  named: boolean;
  prefixes: Uint8Array[];
  segments: Segment[];
  /** Segment index by field index. */
  segmentOf: number[];
}

/** The fields of a Decision, read by name when an object has no others. */
const DECISION_KEYS = DECISION_FIELDS;

type Fields = Record<(typeof DECISION_KEYS)[number], unknown>;

/** Field `code` (an index in DECISION_KEYS, in its order; the byte-for-byte tests cover every field) of `d`. */
function field(d: Fields, code: number): unknown {
  switch (code) {
    case 0:
      return d.id;
    case 1:
      return d.type;
    case 2:
      return d.code;
    case 3:
      return d.agentId;
    case 4:
      return d.agentName;
    case 5:
      return d.action;
    case 6:
      return d.reason;
    case 7:
      return d.timestamp;
    case 8:
      return d.policy;
    case 9:
      return d.target;
    case 10:
      return d.approvedBy;
    case 11:
      return d.callId;
    case 12:
      return d.escalationId;
    case 13:
      return d.grantId;
    case 14:
      return d.retryAfterMs;
    default:
      return d.mode;
  }
}

/** Fields that differ on (nearly) every decision: encoded each time, never kept. */
function perDecision(key: string): boolean {
  switch (key) {
    case "id":
    case "timestamp":
    case "callId":
    case "escalationId":
    case "approvedBy":
    case "grantId":
      return true;
    default:
      return false;
  }
}

function layoutOf(keys: string[]): Layout {
  const segments: Segment[] = [];
  const segmentOf: number[] = [];
  for (let i = 0; i < keys.length; ) {
    const own = perDecision(keys[i]!);
    let to = i + 1;
    if (!own) while (to < keys.length && !perDecision(keys[to]!)) to++;
    for (let f = i; f < to; f++) segmentOf.push(segments.length);
    segments.push({
      from: i,
      to,
      entries: own ? undefined : [],
      next: 0,
      misses: [],
      nextMiss: 0,
      last: keys[i] === "timestamp" ? { value: undefined, bytes: new Uint8Array(64), length: 0 } : undefined,
    });
    i = to;
  }
  const prefixes = keys.map((k) => Buffer.from(`,${JSON.stringify(k)}:`, "utf8"));
  const codes = keys.map((k) => (DECISION_KEYS as readonly string[]).indexOf(k));
  return { keys, codes, named: !codes.includes(-1), prefixes, segments, segmentOf };
}

function copy(src: Uint8Array, buf: Uint8Array, q: number): number {
  const n = src.length;
  if (n >= SHORT_COPY) buf.set(src, q);
  else for (let i = 0; i < n; i++) buf[q + i] = src[i]!;
  return q + n;
}

/**
 * Writes the JSON of one value at `q` (a string, number, boolean or null; the
 * caller skips `undefined`); returns where it ends, or NO_ROOM / UNSUPPORTED.
 */
function value(buf: Buffer, q: number, limit: number, v: unknown): number {
  if (typeof v === "string") {
    const n = v.length;
    if (q + n + 2 > limit) return NO_ROOM;
    buf[q] = 0x22;
    let i = 0;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      // Printable ASCII but `"` and `\`: the same in JSON and UTF-8.
      if (c < 0x20 || c > 0x7f || c === 0x22 || c === 0x5c) break;
      buf[q + 1 + i] = c;
    }
    if (i === n) {
      buf[q + n + 1] = 0x22;
      return q + n + 2;
    }
    const json = JSON.stringify(v);
    // At most 3 UTF-8 bytes per UTF-16 unit.
    if (q + 3 * json.length > limit) return NO_ROOM;
    return q + buf.write(json, q, "utf8");
  }
  let text: string;
  if (typeof v === "number") text = Number.isFinite(v) ? String(v) : "null";
  else if (typeof v === "boolean") text = v ? "true" : "false";
  else if (v === null) text = "null";
  else return UNSUPPORTED;
  if (q + text.length > limit) return NO_ROOM;
  for (let i = 0; i < text.length; i++) buf[q + i] = text.charCodeAt(i);
  return q + text.length;
}

/**
 * Encodes decisions as `JSON.stringify` would, into a buffer. Keeps a bounded
 * cache of the encoded runs of repeating fields, checked value by value (and
 * the keys, in order) before it is used. Takes own-enumerable plain objects of
 * strings, numbers, booleans and nulls (the properties read in
 * `JSON.stringify`'s order); anything else is left to `JSON.stringify`.
 */
export class DecisionEncoder {
  #layouts: Layout[] = [];
  #last: Layout | undefined;
  /** Scratch: the values of the current decision, by field index. */
  readonly #values: unknown[] = [];
  readonly #idHeads: { serial: number; bytes: Uint8Array }[] = [];
  #nextHead = 0;

  /**
   * Writes the JSON text of `decision` into `buf` from `at`, before `limit`,
   * and returns where it ends; NO_ROOM if it would pass `limit`, UNSUPPORTED
   * for a value this encoder leaves to `JSON.stringify`.
   */
  encode(buf: Buffer, at: number, limit: number, decision: object): number {
    if (Object.getPrototypeOf(decision) !== Object.prototype) return UNSUPPORTED;
    if ((decision as { toJSON?: unknown }).toJSON !== undefined) return UNSUPPORTED;
    const layout = this.#layoutFor(decision);
    if (layout === undefined) return UNSUPPORTED;
    const { keys, codes, segments, segmentOf, prefixes } = layout;
    const n = keys.length;
    // for-in visits own keys first, then enumerable inherited ones (a polluted Object.prototype): with the last
    // key its own, every key was, and they are JSON.stringify's, in its order.
    if (n > 0 && !Object.hasOwn(decision, keys[n - 1]!)) return UNSUPPORTED;
    const values = this.#values;
    if (layout.named) {
      // A decision's own fields: named loads, far cheaper than for-in's keyed ones.
      const d = decision as Fields;
      for (let f = 0; f < n; f++) values[f] = field(d, codes[f]!);
    } else {
      let f = 0;
      for (const key in decision) {
        if (key !== keys[f]) return UNSUPPORTED; // a getter changed the keys: left to JSON.stringify
        values[f++] = (decision as Record<string, unknown>)[key];
      }
      if (f !== n) return UNSUPPORTED;
    }
    let q = at;
    for (let f = 0; f < n; f++) {
      const seg = segments[segmentOf[f]!]!;
      if (seg.entries !== undefined) {
        if (f === seg.to - 1) {
          q = this.#run(buf, q, limit, layout, seg);
          if (q < 0) return q;
        }
        continue;
      }
      const v = values[f];
      if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
      if (codes[f] === 0 && v === lastDecisionId.id) {
        // The id the gate just made: written from its parts, the concatenated string is never read.
        q = this.#id(buf, q, limit);
        if (q < 0) return q;
        continue;
      }
      const last = seg.last;
      if (last !== undefined && last.value === v) {
        if (q + last.length > limit) return NO_ROOM;
        for (let i = 0; i < last.length; i++) buf[q + i] = last.bytes[i]!;
        q += last.length;
        continue;
      }
      const start = q;
      if (q + prefixes[f]!.length > limit) return NO_ROOM;
      q = value(buf, copy(prefixes[f]!, buf, q), limit, v);
      if (q < 0) return q;
      if (last !== undefined && q - start <= last.bytes.length) {
        last.value = v;
        last.length = q - start;
        last.bytes.set(buf.subarray(start, q));
      }
    }
    if (q + 2 > limit) return NO_ROOM;
    // Every field was written with a leading comma: the first one becomes the opening brace.
    if (q === at) buf[q++] = 0x7b;
    else buf[at] = 0x7b;
    buf[q++] = 0x7d;
    return q;
  }

  /** `,"id":"…"` for `lastDecisionId`: its base's bytes (kept per base) and three hex digits. */
  #id(buf: Buffer, q: number, limit: number): number {
    const { serial, low } = lastDecisionId;
    let head: Uint8Array | undefined;
    for (const h of this.#idHeads) if (h.serial === serial) head = h.bytes;
    if (head === undefined) {
      head = Buffer.from(`,"id":${JSON.stringify(lastDecisionId.base)}`.slice(0, -1), "utf8");
      this.#idHeads[this.#nextHead] = { serial, bytes: head };
      this.#nextHead = (this.#nextHead + 1) % ID_HEADS;
    }
    if (q + head.length + 4 > limit) return NO_ROOM;
    q = copy(head, buf, q);
    buf[q] = HEX[low >> 8]!;
    buf[q + 1] = HEX[(low >> 4) & 15]!;
    buf[q + 2] = HEX[low & 15]!;
    buf[q + 3] = 0x22;
    return q + 4;
  }

  /** The layout of `decision`'s keys; `undefined` if for-in and `Object.keys` disagree. */
  #layoutFor(decision: object): Layout | undefined {
    const last = this.#last;
    if (last !== undefined && sameKeys(last.keys, decision)) return last;
    for (const layout of this.#layouts) {
      if (layout !== last && sameKeys(layout.keys, decision)) return (this.#last = layout);
    }
    const keys = Object.keys(decision);
    if (!sameKeys(keys, decision)) return undefined;
    if (this.#layouts.length >= MAX_LAYOUTS) this.#layouts = [];
    const layout = layoutOf(keys);
    this.#layouts.push(layout);
    return (this.#last = layout);
  }

  /** Writes the run `seg` (its values are in #values): kept bytes if it repeats, else field by field. */
  #run(buf: Buffer, q: number, limit: number, layout: Layout, seg: Segment): number {
    const values = this.#values;
    const { from, to } = seg;
    const entries = seg.entries!;
    const key = values[to - 1];
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e]!;
      const kept = entry.values;
      // The last value (a reason, a target) tells most runs apart: compared first.
      if (kept[to - 1 - from] !== key) continue;
      let i = from;
      while (i < to && kept[i - from] === values[i]) i++;
      if (i === to) {
        if (q + entry.bytes.length > limit) return NO_ROOM;
        return copy(entry.bytes, buf, q);
      }
    }
    const start = q;
    let strings = true;
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
      strings &&= typeof v === "string";
      const prefix = layout.prefixes[i]!;
      if (q + prefix.length > limit) return NO_ROOM;
      q = value(buf, copy(prefix, buf, q), limit, v);
      if (q < 0) return q;
    }
    // Kept the second time its last value is seen lately: a value seen once costs no allocation.
    if (strings && q - start <= MAX_RUN_BYTES) {
      const misses = seg.misses;
      if (misses.includes(key)) {
        const entry: RunEntry = { values: values.slice(from, to), bytes: new Uint8Array(buf.subarray(start, q)) };
        if (entries.length < RUN_ENTRIES) entries.push(entry);
        else entries[seg.next] = entry;
        seg.next = (seg.next + 1) % RUN_ENTRIES;
      } else if (misses.length < RUN_ENTRIES) misses.push(key);
      else {
        misses[seg.nextMiss] = key;
        seg.nextMiss = (seg.nextMiss + 1) % RUN_ENTRIES;
      }
    }
    return q;
  }
}

/** True if for-in over `decision` visits exactly `keys`, in order. */
function sameKeys(keys: readonly string[], decision: object): boolean {
  let i = 0;
  for (const key in decision) if (keys[i++] !== key) return false;
  return i === keys.length;
}
