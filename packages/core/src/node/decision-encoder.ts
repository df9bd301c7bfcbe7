// Writes `JSON.stringify(decision)` as UTF-8 straight into the sink's chunk, byte for byte the same text, without
// building the JSON string: the fields that repeat from one decision to the next (type, code, agent, action, reason,
// policy, target) are copied as bytes encoded once; only the id and the other per-decision values are encoded anew.

/** `encode` had no room before `limit`: nothing past `at` counts (retry in a fresh chunk). */
export const NO_ROOM = -1;
/** `encode` does not handle this value (not a plain object of primitives): use `JSON.stringify`. */
export const UNSUPPORTED = -2;

/** A run's values and the bytes of `,"key":"value"...` for them. */
interface Run {
  values: string[];
  bytes: Buffer;
}

/** Fields `from` to `to` (exclusive) of a layout: one per-decision field, or a run of repeating ones. */
interface Segment {
  from: number;
  to: number;
  /** For a run: its encoded forms, by the run's last value. */
  runs: Map<string, Run[]> | undefined;
  /** For a per-decision field: `,"key":` */
  prefix: Buffer;
  /** The `timestamp` field. */
  timestamp: boolean;
}

/** The keys of a decision, in order, and how they are split into segments. */
interface Layout {
  keys: string[];
  segments: Segment[];
}

/** Bytes of cached runs at most (the cache is emptied when it would hold more). */
const CACHE_BYTES = 256 * 1024;
/** A run longer than this is written without being cached (a clipped 16 KB reason is not worth keeping). */
const MAX_RUN_BYTES = 2048;
/** Layouts kept (the gate makes a handful: with or without a target, a call id, ...). */
const MAX_LAYOUTS = 32;

/** Fields that differ on (nearly) every decision: encoded each time, never cached. */
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
  for (let i = 0; i < keys.length; ) {
    let to = i + 1;
    if (!perDecision(keys[i]!)) while (to < keys.length && !perDecision(keys[to]!)) to++;
    const own = perDecision(keys[i]!);
    segments.push({
      from: i,
      to,
      runs: own ? undefined : new Map(),
      prefix: Buffer.from(`,${JSON.stringify(keys[i])}:`),
      timestamp: keys[i] === "timestamp",
    });
    i = to;
  }
  return { keys, segments };
}

/**
 * Encodes decisions as `JSON.stringify` would, into a buffer. Keeps a bounded
 * cache of the encoded runs of repeating string fields, checked value by value
 * (and the keys, in order) before it is used. Anything but an own-enumerable
 * plain object of strings, numbers, booleans and nulls (each property read
 * once, in order, as `JSON.stringify` reads it) is left to `JSON.stringify`.
 */
export class DecisionEncoder {
  #layouts: Layout[] = [];
  #cachedBytes = 0;
  /** The last timestamp encoded (it repeats within a millisecond): its segment, value and bytes. */
  #lastField: Segment | undefined;
  #lastValue: unknown;
  #lastBytes: Buffer | undefined;
  /** Scratch: the decision's keys and values, by field index. */
  readonly #keys: string[] = [];
  readonly #values: unknown[] = [];

  /**
   * Writes the JSON text of `value` into `buf` from `at`, before `limit`, and
   * returns where it ends; `NO_ROOM` if it would pass `limit`, `UNSUPPORTED` for
   * a value this encoder leaves to `JSON.stringify`.
   */
  encode(buf: Buffer, at: number, limit: number, value: object): number {
    if (
      typeof value !== "object" ||
      value === null ||
      Object.getPrototypeOf(value) !== Object.prototype ||
      typeof (value as { toJSON?: unknown }).toJSON === "function"
    ) {
      return UNSUPPORTED;
    }
    // for-in reads each property once, in JSON.stringify's order (own keys; the prototype's only if it has
    // enumerable ones, which the layout check below refuses), without building a key array.
    for (const _ in Object.prototype) return UNSUPPORTED;
    const keys = this.#keys;
    const values = this.#values;
    let n = 0;
    for (const key in value) {
      const v = (value as Record<string, unknown>)[key];
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean" && v !== null && v !== undefined)
        return UNSUPPORTED;
      keys[n] = key;
      values[n++] = v;
    }
    const layout = this.#layout(keys, n, value);
    if (layout === undefined) return UNSUPPORTED;
    let q = at;
    const segments = layout.segments;
    for (let s = 0; s < segments.length && q >= 0; s++) {
      const seg = segments[s]!;
      q = seg.runs !== undefined ? this.#run(buf, q, limit, layout.keys, seg) : this.#field(buf, q, limit, seg);
    }
    if (q < 0 || q + 2 > limit) return NO_ROOM;
    // Every field was written with a leading comma: the first one becomes the opening brace.
    if (q === at) buf[q++] = 0x7b;
    else buf[at] = 0x7b;
    buf[q++] = 0x7d;
    return q;
  }

  /** The layout of the `n` keys in `keys` (those of `value`); `undefined` if they are not its own keys. */
  #layout(keys: string[], n: number, value: object): Layout | undefined {
    const layouts = this.#layouts;
    for (let l = 0; l < layouts.length; l++) {
      const known = layouts[l]!.keys;
      if (known.length !== n) continue;
      let i = 0;
      while (i < n && known[i] === keys[i]) i++;
      if (i === n) return layouts[l]!;
    }
    const own = Object.keys(value);
    if (own.length !== n || own.some((key, i) => key !== keys[i])) return undefined;
    if (layouts.length >= MAX_LAYOUTS) this.#clear();
    const layout = layoutOf(own);
    this.#layouts.push(layout);
    return layout;
  }

  #clear(): void {
    this.#layouts = [];
    this.#cachedBytes = 0;
  }

  /** Writes the run of repeating fields `seg` (all strings, or each field on its own). */
  #run(buf: Buffer, q: number, limit: number, keys: string[], seg: Segment): number {
    const values = this.#values;
    const { from, to } = seg;
    const last = values[to - 1];
    let bytes: Buffer | undefined;
    if (typeof last === "string") {
      const candidates = seg.runs!.get(last);
      if (candidates !== undefined) {
        for (let c = 0; c < candidates.length && bytes === undefined; c++) {
          const run = candidates[c]!.values;
          let i = from;
          while (i < to && run[i - from] === values[i]) i++;
          if (i === to) bytes = candidates[c]!.bytes;
        }
      }
    }
    if (bytes === undefined) {
      let text = "";
      let strings = true;
      for (let i = from; i < to; i++) {
        const v = values[i];
        if (v === undefined) continue;
        strings &&= typeof v === "string";
        text += `,${JSON.stringify(keys[i])}:${JSON.stringify(v)}`;
      }
      bytes = Buffer.from(text, "utf8");
      if (strings && typeof last === "string" && bytes.length <= MAX_RUN_BYTES) this.#keep(seg, last, bytes);
    }
    if (q + bytes.length > limit) return NO_ROOM;
    buf.set(bytes, q);
    return q + bytes.length;
  }

  #keep(seg: Segment, last: string, bytes: Buffer): void {
    if (this.#cachedBytes + bytes.length > CACHE_BYTES) {
      for (const layout of this.#layouts) for (const s of layout.segments) s.runs?.clear();
      this.#cachedBytes = 0;
    }
    const run: Run = { values: this.#values.slice(seg.from, seg.to) as string[], bytes };
    const list = seg.runs!.get(last);
    if (list === undefined) seg.runs!.set(last, [run]);
    else list.push(run);
    this.#cachedBytes += bytes.length;
  }

  /** Writes `,"key":<JSON of its value>` for a per-decision field (nothing when it is `undefined`). */
  #field(buf: Buffer, q: number, limit: number, seg: Segment): number {
    const v = this.#values[seg.from];
    if (v === undefined) return q;
    if (seg === this.#lastField && v === this.#lastValue) {
      const bytes = this.#lastBytes!;
      if (q + bytes.length > limit) return NO_ROOM;
      buf.set(bytes, q);
      return q + bytes.length;
    }
    const json = JSON.stringify(v);
    const prefix = seg.prefix;
    // At most 3 UTF-8 bytes per UTF-16 unit.
    if (q + prefix.length + 3 * json.length > limit) return NO_ROOM;
    buf.set(prefix, q);
    const end = q + prefix.length + buf.write(json, q + prefix.length, "utf8");
    if (seg.timestamp) {
      this.#lastField = seg;
      this.#lastValue = v;
      this.#lastBytes = Buffer.from(buf.subarray(q, end));
    }
    return end;
  }
}
