import { canonicalJson } from "../gate/fingerprint.js";
import { sha256 } from "./audit-record.js";

/** What replaces a secret. */
export const REDACTED = "[REDACTED]";

export interface RedactOptions {
  /** Extra keys to redact: a string matches the whole key case-insensitively (ignoring `-`, `_`, spaces), a RegExp is tested against the key. */
  redactKeys?: readonly (string | RegExp)[];
  /** Arguments longer than this (canonical JSON characters) are replaced by their length and SHA-256. Default 65 536. */
  maxArgsLength?: number;
}

// A key is split into words (camelCase, snake_case, kebab-case); it is secret
// when one word, or two adjacent words joined, is in these sets. Word matching
// keeps `max_tokens` or `author` readable while `accessToken` or `x-api-key` go.
const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "passphrase",
  "pwd",
  "pass",
  "secret",
  "secrets",
  "token",
  "cookie",
  "cookies",
  "authorization",
  "auth",
  "credential",
  "credentials",
  "apikey",
  "privatekey",
  "jwt",
  "bearer",
  "otp",
  "csrf",
  "xsrf",
  "sessionid",
  "signature",
  "mfa",
  "totp",
]);
const SECRET_PAIRS = new Set([
  "apikey",
  "privatekey",
  "secretkey",
  "accesskey",
  "sshkey",
  "signingkey",
  "encryptionkey",
  "masterkey",
  "sessionkey",
  "authkey",
  "sessionid",
  "clientsecret",
  "refreshtoken",
  "accesstoken",
  "connectionstring",
]);

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");
}

const squash = (key: string) => key.toLowerCase().replace(/[\s_-]+/g, "");

function isSecretByDefault(key: string): boolean {
  const w = words(key);
  for (let i = 0; i < w.length; i++) {
    if (SECRET_WORDS.has(w[i]!)) return true;
    if (i + 1 < w.length && SECRET_PAIRS.has(w[i]! + w[i + 1]!)) return true;
  }
  return false;
}

// Values that are secrets whatever their key: credentials in URLs, bearer
// tokens, private keys, JWTs and well-known API key formats.
const SECRET_VALUES: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\beyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]+/g,
  /\b(?:sk|rk)[-_][A-Za-z0-9_-]{20,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bAIza[0-9A-Za-z_-]{35}/g,
  /(?<=\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^/\s@]+(?=@)/gi,
];

function redactString(s: string): string {
  let out = s;
  for (const re of SECRET_VALUES) {
    re.lastIndex = 0;
    if (re.test(out)) {
      re.lastIndex = 0;
      out = out.replace(re, REDACTED);
    }
  }
  return out;
}

const MAX_DEPTH = 30;

/**
 * Makes tool arguments safe to write: a JSON-only copy with secret-looking keys
 * (any depth, case-insensitive) and secret-looking values replaced by
 * `"[REDACTED]"`, cycles and over-deep nesting cut, and anything too long
 * replaced by its length and SHA-256. Never throws.
 */
export class ArgsRedactor {
  readonly #extra: { names: Set<string>; patterns: RegExp[] };
  readonly #maxLength: number;
  readonly #cache = new Map<string, boolean>();

  constructor(options: RedactOptions = {}) {
    const names = new Set<string>();
    const patterns: RegExp[] = [];
    for (const k of options.redactKeys ?? []) {
      if (typeof k === "string") names.add(squash(k));
      else if (k instanceof RegExp) patterns.push(k);
      else throw new TypeError("redactKeys must hold strings or RegExps");
    }
    this.#extra = { names, patterns };
    const max = options.maxArgsLength ?? 65_536;
    if (!Number.isInteger(max) || max < 0) throw new TypeError("maxArgsLength must be an integer >= 0");
    this.#maxLength = max;
  }

  /** True when the value under this key is never written. */
  isSecretKey(key: string): boolean {
    let secret = this.#cache.get(key);
    if (secret === undefined) {
      secret =
        isSecretByDefault(key) ||
        this.#extra.names.has(squash(key)) ||
        this.#extra.patterns.some((re) => {
          re.lastIndex = 0;
          return re.test(key);
        });
      if (this.#cache.size < 4096) this.#cache.set(key, secret);
    }
    return secret;
  }

  /** Redacted copy of `value` (JSON values only). */
  redact(value: unknown): unknown {
    try {
      return this.#copy(value, 0, []);
    } catch (error) {
      return `[arguments not serialisable: ${error instanceof Error ? error.message : String(error)}]`;
    }
  }

  /** Canonical JSON of the redacted arguments, as written into a record (nested one level deep). */
  toJson(value: unknown): string {
    let json: string;
    try {
      json = canonicalJson(this.redact(value), 1);
    } catch (error) {
      json = JSON.stringify(`[arguments not serialisable: ${error instanceof Error ? error.message : String(error)}]`);
    }
    if (json.length > this.#maxLength) {
      return JSON.stringify(`[arguments omitted: ${json.length} characters of canonical JSON, sha256 ${sha256(json)}]`);
    }
    return json;
  }

  #copy(value: unknown, depth: number, stack: object[]): unknown {
    switch (typeof value) {
      case "string":
        return redactString(value);
      case "number":
        return Number.isFinite(value) ? value : null;
      case "boolean":
        return value;
      case "bigint":
        return value.toString();
      case "undefined":
      case "function":
      case "symbol":
        return undefined;
    }
    if (value === null) return null;
    const obj = value as Record<string, unknown>;
    if (stack.includes(obj)) return "[circular]";
    if (depth >= MAX_DEPTH) return "[nested too deep]";
    if (typeof (obj as { toJSON?: unknown }).toJSON === "function") {
      return this.#copy((obj as { toJSON: () => unknown }).toJSON(), depth + 1, stack);
    }
    if (obj instanceof Map) return this.#copy([...obj.entries()], depth, stack);
    if (obj instanceof Set) return this.#copy([...obj], depth, stack);
    const tag = Object.prototype.toString.call(obj);
    if (!Array.isArray(obj) && tag !== "[object Object]" && tag !== "[object Arguments]" && !ArrayBuffer.isView(obj)) {
      // RegExp, Error, ...: no faithful JSON form; say what it was instead of printing "{}".
      return redactString(`[${tag.slice(8, -1)}: ${String(obj)}]`);
    }
    stack.push(obj);
    try {
      if (Array.isArray(obj)) {
        return obj.map((v) => {
          const c = this.#copy(v, depth + 1, stack);
          return c === undefined ? null : c;
        });
      }
      // Null prototype: a key named "__proto__" stays an ordinary key.
      const out: Record<string, unknown> = Object.create(null);
      for (const key of Object.keys(obj)) {
        if (this.isSecretKey(key)) {
          out[key] = REDACTED;
          continue;
        }
        const c = this.#copy(obj[key], depth + 1, stack);
        if (c !== undefined) out[key] = c;
      }
      return out;
    } finally {
      stack.pop();
    }
  }
}
