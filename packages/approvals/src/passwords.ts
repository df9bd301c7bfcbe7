import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** scrypt cost: N=2^15, r=8, p=1 (about 32 MiB, tens of ms): slow for guessers, fine for a sign-in. */
const N = 32768;
const R = 8;
const P = 1;
const KEY_LEN = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: n, r, p, maxmem: 128 * n * r * 2 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFC"), salt, KEY_LEN, options, (e, key) => (e ? reject(e) : resolve(key))),
  );
}

/** `scrypt$N$r$p$<salt b64url>$<hash b64url>`, with a fresh 16-byte salt per call. */
export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== "string" || password === "") throw new TypeError("the password must be a non-empty string");
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** A hash of something, used when a user does not exist: sign-in takes as long either way. */
let dummy: Promise<string> | undefined;

/** Compares in constant time; a malformed or missing hash is `false` (after the same work). */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parts = typeof stored === "string" ? stored.split("$") : [];
  if (parts.length !== 6 || parts[0] !== "scrypt") {
    dummy ??= hashPassword("not a password");
    await verifyPassword(password, await dummy);
    return false;
  }
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, "base64url");
  const nn = Number(n);
  const rr = Number(r);
  const pp = Number(p);
  // Bounded costs: a tampered file must not make every sign-in allocate gigabytes.
  if (!(nn >= 1024 && nn <= 1 << 20 && rr >= 1 && rr <= 32 && pp >= 1 && pp <= 16) || expected.length !== KEY_LEN)
    return false;
  const key = await derive(String(password), Buffer.from(salt, "base64url"), nn, rr, pp);
  return timingSafeEqual(key, expected);
}

/** A new API token: 32 random bytes, prefixed so it is recognisable in logs and secret scanners. */
export function newToken(): string {
  return `agt_${randomBytes(32).toString("base64url")}`;
}

/** Tokens are high-entropy, so a plain SHA-256 is enough to store them (the file never holds a usable token). */
export function hashToken(token: string): string {
  return `sha256$${createHash("sha256").update(token).digest("base64url")}`;
}

/** Constant-time comparison of two token hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
