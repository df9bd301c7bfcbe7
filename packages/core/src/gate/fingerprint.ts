import { subtle, toHex } from "../identity/encoding.js";

const MAX_DEPTH = 32;
const MAX_INLINE = 512;
const TYPED_ARRAY = /^\[object (?:Big)?(?:Int|Uint|Float)(?:8|16|32|64)(?:Clamped)?Array\]$/;
/** Keys up to this many are sorted in place by insertion: `Array#sort` allocates its own work state per call. */
const SMALL_SORT = 16;

/**
 * Canonical JSON: object keys sorted, so `{a,b}` and `{b,a}` agree.
 * @throws TypeError for cycles, functions, bigints, nesting beyond 32 levels, and objects whose
 * content is not in their own keys (Map, Set, RegExp, Error...): they would all print as `{}`.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) throw new TypeError("arguments are nested more than 32 levels deep");
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "null";
  if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol") {
    throw new TypeError(`arguments contain a ${typeof value}, which is not JSON`);
  }
  // One string built by appending (no parts arrays, closures or joins per level).
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      const v: unknown = value[i];
      // A hole is not JSON (and `[]` and `[,]` must not print alike); stopping at the first one also
      // keeps `new Array(2 ** 32 - 1)` from looping over nothing.
      if (v === undefined && !(i in value))
        throw new TypeError(`arguments contain a sparse array (a hole at index ${i})`);
      out += canonicalJson(v, depth + 1);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === "function") {
    return canonicalJson((obj as { toJSON: () => unknown }).toJSON(), depth + 1);
  }
  const tag = Object.prototype.toString.call(obj);
  if (tag !== "[object Object]" && tag !== "[object Arguments]" && !TYPED_ARRAY.test(tag)) {
    // Map, Set, RegExp, Error, ArrayBuffer...: their content is not in their own keys, so two
    // different values would print as the same "{}" and share one call fingerprint.
    throw new TypeError(`arguments contain a ${tag.slice(8, -1)}, which has no faithful JSON form`);
  }
  const keys = sortKeys(Object.keys(obj));
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = obj[k];
    if (v === undefined || typeof v === "function") continue;
    if (out.length > 1) out += ",";
    out += `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`;
  }
  return `${out}}`;
}

/** `keys.sort()` (UTF-16 code unit order), without its per-call allocation for the few keys of tool arguments. */
function sortKeys(keys: string[]): string[] {
  if (keys.length > SMALL_SORT) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/**
 * Identifies (action, target, args) of a call: its canonical JSON when short (returned at once, no
 * promise), else the SHA-256 of it (a promise: Web Crypto digests asynchronously).
 * @throws TypeError as `canonicalJson` does.
 */
export function callFingerprint(action: string, target: string | undefined, args: unknown): string | Promise<string> {
  // `canonicalJson([action, target ?? null, args ?? null])`, joined into one flat string: the
  // fingerprint is kept in the call's record, where a tree of appended pieces would cost several
  // times its length (and comparing a repeat's fingerprint would read it through the tree).
  const target_ = target === undefined ? "null" : JSON.stringify(target);
  const text = ["[", JSON.stringify(action), ",", target_, ",", canonicalJson(args ?? null, 1), "]"].join("");
  if (text.length <= MAX_INLINE) return text;
  return digest(text);
}

async function digest(text: string): Promise<string> {
  const hash = await subtle().digest("SHA-256", new TextEncoder().encode(text));
  return `sha256:${toHex(new Uint8Array(hash))}`;
}
