import { subtle, toHex } from "../identity/encoding.js";

const MAX_DEPTH = 32;
const MAX_INLINE = 512;
const TYPED_ARRAY = /^\[object (?:Big)?(?:Int|Uint|Float)(?:8|16|32|64)(?:Clamped)?Array\]$/;

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
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(",")}]`;
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
  const keys = Object.keys(obj).sort();
  const parts: string[] = [];
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === "function") continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`);
  }
  return `{${parts.join(",")}}`;
}

/** Identifies (action, target, args) of a call: inline when short, SHA-256 otherwise. */
export async function callFingerprint(action: string, target: string | undefined, args: unknown): Promise<string> {
  const text = canonicalJson([action, target ?? null, args ?? null]);
  if (text.length <= MAX_INLINE) return text;
  const digest = await subtle().digest("SHA-256", new TextEncoder().encode(text));
  return `sha256:${toHex(new Uint8Array(digest))}`;
}
